//! From a sentence to an action and a resource: "restart the API Lambda", "scale web to 4
//! tasks", "invalidate the cdn cache". What names no supported action, or several
//! resources, is explained and refused.

use super::catalogue::{self, Action};
use crate::investigator::query::{self, Resolution};
use crate::registry::{EnvironmentView, Resource};
use crate::resource::ResourceKind;

/// What a description asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: &'static Action,
    pub resource: Resource,
    pub value: Option<i64>,
}

/// Why a description cannot be acted on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DescribeError {
    #[error("{0:?} names no action helm-cloud can take")]
    NoAction(String),
    #[error("{description:?} fits several resources: {}", candidates.join(", "))]
    Ambiguous {
        description: String,
        candidates: Vec<String>,
    },
    #[error("{0:?} names no resource of the environment that the action applies to")]
    NoResource(String),
}

/// Verbs and nouns that name an action, most specific first.
fn action_words(d: &str) -> Option<&'static str> {
    let has = |w: &str| {
        d.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .any(|x| x == w)
    };
    if has("invalidate")
        || (has("clear") || has("flush") || has("purge")) && (has("cache") || has("cdn"))
    {
        return Some("invalidate_cloudfront");
    }
    if has("autoscaling") || has("auto-scaling") || (has("min") && has("max")) {
        return Some("modify_autoscaling");
    }
    if has("reboot") {
        return Some("reboot_rds");
    }
    if has("scale") || has("resize") {
        return Some("scale_resources");
    }
    if has("increase") || has("add") || has("more") {
        if has("capacity") || has("tasks") || has("concurrency") {
            return Some("increase_capacity");
        }
        return None;
    }
    if has("restart") || has("redeploy") || has("bounce") || has("recycle") {
        return Some("restart");
    }
    None
}

/// The first whole number in the description ("scale web to 4 tasks" → 4).
fn number(d: &str) -> Option<i64> {
    d.split(|c: char| !c.is_ascii_digit())
        .find(|w| !w.is_empty())
        .and_then(|n| n.parse().ok())
}

/// Parse a description against an environment.
pub fn parse(description: &str, view: &EnvironmentView) -> Result<Request, DescribeError> {
    let d = description.to_ascii_lowercase();
    let Some(word) = action_words(&d) else {
        return Err(DescribeError::NoAction(description.to_string()));
    };
    // The resource: the query resolver, limited to the kinds the action applies to.
    let words_to_ignore: Vec<String> = [
        "restart",
        "scale",
        "invalidate",
        "clear",
        "cache",
        "reboot",
        "increase",
        "capacity",
        "to",
        "by",
        "min",
        "max",
        "autoscaling",
        "redeploy",
        "bounce",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let kinds_for = |w: &str| -> Vec<ResourceKind> {
        match w {
            "restart" => vec![ResourceKind::Lambda, ResourceKind::Ecs],
            other => catalogue::find(other)
                .map(|a| a.kinds.to_vec())
                .unwrap_or_default(),
        }
    };
    let kinds = kinds_for(word);
    let narrowed = EnvironmentView {
        environment: view.environment.clone(),
        deployments: view.deployments.clone(),
        resources: view
            .resources
            .iter()
            .filter(|r| r.kind.is_some_and(|k| kinds.contains(&k)))
            .cloned()
            .collect(),
    };
    let chosen = match query::resolve(description, &narrowed, &words_to_ignore) {
        Resolution::Resources(r) => r.into_iter().next().unwrap(),
        Resolution::Ambiguous { candidates } => {
            return Err(DescribeError::Ambiguous {
                description: description.to_string(),
                candidates: candidates.into_iter().map(|r| r.id).collect(),
            });
        }
        Resolution::Nothing if narrowed.resources.len() == 1 => narrowed.resources[0].clone(),
        Resolution::Nothing => return Err(DescribeError::NoResource(description.to_string())),
    };
    let name = match word {
        "restart" if chosen.kind == Some(ResourceKind::Ecs) => "restart_ecs_service",
        "restart" => "restart_lambda",
        other => other,
    };
    let action = catalogue::find(name).expect("the words map to catalogue actions");
    Ok(Request {
        action,
        resource: chosen,
        value: number(&d),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn view() -> EnvironmentView {
        let text = r#"{"deployments": [{"id": "d", "environment": "test", "resources": [
            {"id": "api-lambda", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:1:function:acme-api-test"},
            {"id": "worker-lambda", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:1:function:acme-worker-test"},
            {"id": "web", "type": "ecs", "arn": "arn:aws:ecs:us-east-1:1:service/acme/web"},
            {"id": "orders-db", "type": "rds", "arn": "arn:aws:rds:us-east-1:1:db:acme-orders-test"},
            {"id": "cdn", "type": "cloudfront", "arn": "arn:aws:cloudfront::1:distribution/E1"}
        ]}]}"#;
        Registry::parse(std::path::Path::new("r.json"), text)
            .unwrap()
            .environment_view("test")
    }

    fn ok(d: &str) -> (String, String, Option<i64>) {
        let r = parse(d, &view()).unwrap_or_else(|e| panic!("{d}: {e}"));
        (r.action.name.to_string(), r.resource.id, r.value)
    }

    #[test]
    fn descriptions_name_action_resource_and_value() {
        assert_eq!(
            ok("restart the API Lambda"),
            ("restart_lambda".into(), "api-lambda".into(), None)
        );
        assert_eq!(
            ok("scale web to 4 tasks"),
            ("scale_resources".into(), "web".into(), Some(4))
        );
        assert_eq!(
            ok("invalidate the cdn cache"),
            ("invalidate_cloudfront".into(), "cdn".into(), None)
        );
        assert_eq!(
            ok("clear the cache"),
            ("invalidate_cloudfront".into(), "cdn".into(), None)
        );
        assert_eq!(
            ok("restart web"),
            ("restart_ecs_service".into(), "web".into(), None)
        );
        assert_eq!(
            ok("reboot the database"),
            ("reboot_rds".into(), "orders-db".into(), None)
        );
        assert_eq!(
            ok("increase capacity of web"),
            ("increase_capacity".into(), "web".into(), None)
        );
    }

    #[test]
    fn unsupported_and_ambiguous_descriptions_are_refused() {
        assert!(matches!(
            parse("increase RDS max connections to 200", &view()),
            Err(DescribeError::NoAction(_))
        ));
        assert!(matches!(
            parse("make it faster", &view()),
            Err(DescribeError::NoAction(_))
        ));
        match parse("restart the lambda", &view()) {
            Err(DescribeError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
