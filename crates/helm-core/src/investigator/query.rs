//! From a question to resources: names and ids of the registry, and kind words ("api
//! function", "the database", "lambda errors"). Ambiguity is reported, never guessed.

use crate::registry::{EnvironmentView, Resource};
use crate::resource::ResourceKind;

/// What a query named.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Exactly these resources.
    Resources(Vec<Resource>),
    /// Several resources fit equally well.
    Ambiguous { candidates: Vec<Resource> },
    /// The query names no resource (a general question).
    Nothing,
}

/// Kind words and the kinds they name.
pub fn kind_of_word(word: &str) -> Option<ResourceKind> {
    Some(match word {
        "lambda" | "lambdas" | "function" | "functions" | "fn" | "handler" => ResourceKind::Lambda,
        "ecs" | "service" | "services" | "container" | "containers" | "task" | "tasks"
        | "fargate" => ResourceKind::Ecs,
        "rds" | "database" | "databases" | "db" | "postgres" | "postgresql" | "mysql"
        | "aurora" => ResourceKind::Rds,
        "s3" | "bucket" | "buckets" => ResourceKind::S3,
        "cloudfront" | "cdn" | "distribution" => ResourceKind::CloudFront,
        "apigateway" | "gateway" | "endpoint" | "endpoints" => ResourceKind::ApiGateway,
        "dynamodb" | "dynamo" | "table" | "tables" => ResourceKind::DynamoDb,
        "sqs" | "queue" | "queues" => ResourceKind::Sqs,
        "stepfunctions" | "state-machine" | "workflow" | "workflows" => ResourceKind::StepFunctions,
        "eventbridge" => ResourceKind::EventBridge,
        "alb" | "load-balancer" | "loadbalancer" | "balancer" => ResourceKind::Alb,
        "nlb" => ResourceKind::Nlb,
        "targetgroup" | "target-group" | "targets" => ResourceKind::TargetGroup,
        "kinesis" | "stream" | "streams" => ResourceKind::Kinesis,
        "elasticache" | "cache" | "caches" | "redis" | "memcached" | "valkey" => {
            ResourceKind::ElastiCache
        }
        "asg" | "autoscaling" | "instances" | "instance" | "ec2" => ResourceKind::Asg,
        "sns" | "topic" | "topics" => ResourceKind::Sns,
        _ => return None,
    })
}

const STOP: &[&str] = &[
    "a",
    "an",
    "the",
    "what",
    "whats",
    "what's",
    "why",
    "how",
    "is",
    "are",
    "was",
    "were",
    "be",
    "with",
    "in",
    "on",
    "of",
    "for",
    "to",
    "from",
    "happened",
    "happening",
    "happen",
    "wrong",
    "going",
    "errors",
    "error",
    "failing",
    "failures",
    "failure",
    "failed",
    "fails",
    "slow",
    "slowness",
    "down",
    "check",
    "investigate",
    "look",
    "looking",
    "into",
    "at",
    "my",
    "our",
    "all",
    "please",
    "show",
    "me",
    "there",
    "any",
    "logs",
    "log",
    "and",
    "or",
    "did",
    "does",
    "do",
    "it",
    "this",
    "that",
    "up",
    "latency",
    "timeouts",
    "issue",
    "issues",
    "problem",
    "problems",
    "broken",
    "outage",
    "spike",
    "spikes",
    "high",
    "prod",
    "production",
    "test",
    "staging",
    "env",
    "environment",
    "root",
    "cause",
    "about",
    "recent",
    "recently",
    "now",
];

fn words(query: &str, ignore: &[String]) -> Vec<String> {
    query
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .map(|w| w.trim_matches('.').to_ascii_lowercase())
        .filter(|w| !w.is_empty() && !STOP.contains(&w.as_str()) && !ignore.contains(w))
        .collect()
}

fn name_score(word: &str, r: &Resource) -> u32 {
    let id = r.id.to_ascii_lowercase();
    let name = r.name.to_ascii_lowercase();
    if word == id || word == name {
        return 3;
    }
    let parts = |s: &str| s.split(['-', '_', '.', '/']).any(|p| p == word);
    if parts(&id) || parts(&name) {
        return 2;
    }
    if word.len() >= 4 && (id.contains(word) || name.contains(word)) {
        return 1;
    }
    0
}

/// Resolve `query` against the environment. `ignore` holds words already used (time words).
pub fn resolve(query: &str, view: &EnvironmentView, ignore: &[String]) -> Resolution {
    let words = words(query, ignore);
    // A word that names a resource is a name first ("api" in "api function" is the
    // acme-api function, not API Gateway); the others may be kind words.
    let named_by = |w: &str| view.resources.iter().any(|r| name_score(w, r) >= 2);
    let kinds: Vec<ResourceKind> = words
        .iter()
        .filter(|w| !named_by(w))
        .filter_map(|w| kind_of_word(w))
        .collect();
    let scored: Vec<(u32, &Resource)> = view
        .resources
        .iter()
        .map(|r| {
            let name: u32 = words.iter().map(|w| name_score(w, r)).sum();
            let kind = u32::from(r.kind.is_some_and(|k| kinds.contains(&k)));
            (name * 2 + kind, r)
        })
        .collect();
    let best_name = scored
        .iter()
        .filter(|(s, _)| *s >= 4)
        .map(|(s, _)| *s)
        .max();
    let candidates: Vec<Resource> = match best_name {
        Some(best) => scored
            .iter()
            .filter(|(s, _)| *s == best)
            .map(|(_, r)| (*r).clone())
            .collect(),
        None if !kinds.is_empty() => view
            .resources
            .iter()
            .filter(|r| r.kind.is_some_and(|k| kinds.contains(&k)))
            .cloned()
            .collect(),
        None => return Resolution::Nothing,
    };
    match candidates.len() {
        0 => Resolution::Nothing,
        1 => Resolution::Resources(candidates),
        _ => Resolution::Ambiguous { candidates },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    fn view() -> EnvironmentView {
        let text = r#"{"deployments": [{"id": "d", "environment": "test", "resources": [
            {"id": "api-lambda", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:1:function:acme-api-test"},
            {"id": "worker-lambda", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:1:function:acme-worker-test"},
            {"id": "orders-db", "type": "rds", "arn": "arn:aws:rds:us-east-1:1:db:acme-orders-test"},
            {"id": "web", "type": "ecs", "arn": "arn:aws:ecs:us-east-1:1:service/acme/web"},
            {"id": "gateway", "type": "apigateway", "arn": "arn:aws:apigateway:us-east-1::/restapis/abc", "name": "acme-api"}
        ]}]}"#;
        Registry::parse(std::path::Path::new("r.json"), text)
            .unwrap()
            .environment_view("test")
    }

    fn ids(r: Resolution) -> Vec<String> {
        match r {
            Resolution::Resources(v) => v.into_iter().map(|r| r.id).collect(),
            Resolution::Ambiguous { candidates } => {
                let mut v: Vec<String> = candidates
                    .into_iter()
                    .map(|r| format!("?{}", r.id))
                    .collect();
                v.sort();
                v
            }
            Resolution::Nothing => vec![],
        }
    }

    #[test]
    fn names_ids_and_kind_words() {
        let v = view();
        assert_eq!(ids(resolve("api function errors", &v, &[])), ["api-lambda"]);
        assert_eq!(
            ids(resolve("why is the database slow", &v, &[])),
            ["orders-db"]
        );
        assert_eq!(ids(resolve("web", &v, &[])), ["web"]);
        assert_eq!(ids(resolve("acme-worker-test", &v, &[])), ["worker-lambda"]);
        assert_eq!(
            ids(resolve("what happened to the gateway", &v, &[])),
            ["gateway"]
        );
        assert_eq!(ids(resolve("orders", &v, &[])), ["orders-db"]);
    }

    #[test]
    fn ambiguous_queries_list_the_candidates() {
        let v = view();
        assert_eq!(
            ids(resolve("lambda errors", &v, &[])),
            ["?api-lambda", "?worker-lambda"]
        );
        assert_eq!(ids(resolve("api", &v, &[])), ["?api-lambda", "?gateway"]);
    }

    #[test]
    fn a_general_question_names_nothing() {
        assert_eq!(
            resolve(
                "what happened in the last 2 hours",
                &view(),
                &["last".into(), "2".into(), "hours".into()]
            ),
            Resolution::Nothing
        );
    }
}
