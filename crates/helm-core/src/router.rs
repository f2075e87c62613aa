//! `ask`: plain language to a helm-cloud command, deterministically, in the spirit of the
//! plugin's ops-manager trigger words. Intent words pick the command, environment words
//! the `--env`, registry names the resource.

/// What `ask` understood of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Understood {
    pub environment: Option<String>,
    pub resource: Option<String>,
    pub issue: Option<String>,
    pub intent: Option<&'static str>,
}

/// The command for a request (arguments after `helm-cloud`), or what was understood.
pub fn route(
    text: &str,
    environments: &[String],
    resources: &[String],
) -> Result<Vec<String>, Understood> {
    let lower = text.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .map(|w| w.trim_matches('.').to_string())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    let phrase = |p: &str| lower.contains(p);

    // Environment: a name from environments.json, or a common word for one.
    let environment = words.iter().find_map(|w| {
        if environments.contains(w) {
            return Some(w.clone());
        }
        let alias = match w.as_str() {
            "production" | "live" => "prod",
            "testing" | "dev" | "development" => "test",
            "stage" => "staging",
            _ => return None,
        };
        environments
            .iter()
            .any(|e| e == alias)
            .then(|| alias.to_string())
    });
    let resource = resources
        .iter()
        .find(|r| words.iter().any(|w| w == &r.to_lowercase()))
        .cloned();
    let issue = words.iter().find(|w| crate::issues::valid_id(w)).cloned();

    let intent: Option<&'static str> = if has("escalate")
        || phrase("work item")
        || has("ticket")
        || phrase("hand off")
        || has("page")
    {
        Some("escalate")
    } else if [
        "restart",
        "reboot",
        "scale",
        "remediate",
        "invalidate",
        "fix",
        "bounce",
        "redeploy",
    ]
    .iter()
    .any(|w| has(w))
        || phrase("clear the cache")
        || phrase("clear cache")
        || phrase("increase capacity")
    {
        Some("remediate")
    } else if [
        "audit",
        "cost",
        "costs",
        "spend",
        "spending",
        "bill",
        "billing",
        "budget",
        "security",
        "secure",
        "compliance",
        "compliant",
        "vulnerabilities",
    ]
    .iter()
    .any(|w| has(w))
    {
        Some("audit")
    } else if has("investigate")
        || has("why")
        || phrase("what happened")
        || phrase("root cause")
        || phrase("went wrong")
        || has("diagnose")
        || has("debug")
    {
        Some("investigate")
    } else if has("logs")
        || has("log")
        || phrase("find errors")
        || phrase("show errors")
        || phrase("error messages")
        || has("grep")
    {
        Some("logs")
    } else if [
        "performance",
        "slow",
        "slowness",
        "latency",
        "metrics",
        "trend",
        "trends",
        "p95",
        "p99",
    ]
    .iter()
    .any(|w| has(w))
        || phrase("response time")
    {
        Some("performance")
    } else if has("dashboard") || has("overview") || phrase("all domains") {
        Some("dashboard")
    } else if has("issues")
        || has("issue")
        || has("incidents")
        || has("problems")
        || phrase("what's broken")
        || phrase("whats broken")
    {
        Some("issues")
    } else if [
        "health", "healthy", "status", "alive", "uptime", "up", "down", "working", "ok",
    ]
    .iter()
    .any(|w| has(w))
    {
        Some("health")
    } else {
        None
    };

    let understood = Understood {
        environment: environment.clone(),
        resource: resource.clone(),
        issue: issue.clone(),
        intent,
    };
    let explicit_env = environment.is_some();
    let env = environment.unwrap_or_else(|| "test".into());
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut argv = match intent {
        Some("escalate") => match &issue {
            Some(id) => s(&["escalate", id]),
            None => return Err(understood),
        },
        Some("remediate") => match &issue {
            Some(id) => s(&["remediate", "--issue", id]),
            None => vec!["remediate".into(), text.trim().to_string()],
        },
        Some("audit") => {
            let kind = if [
                "cost", "costs", "spend", "spending", "bill", "billing", "budget",
            ]
            .iter()
            .any(|w| has(w))
            {
                "cost"
            } else if has("compliance") || has("compliant") {
                "compliance"
            } else if has("security") || has("secure") || has("vulnerabilities") {
                "security"
            } else {
                "all"
            };
            s(&["audit", "--type", kind])
        }
        Some("investigate") => match (&issue, &resource) {
            (Some(id), _) => s(&["investigate", "--issue", id]),
            _ => vec!["investigate".into(), text.trim().to_string()],
        },
        Some("logs") => match &resource {
            Some(r) => {
                let mut v = s(&["logs", "--service", r]);
                if has("errors") || has("error") || has("exceptions") {
                    v.extend(s(&["--filter", "?ERROR ?Error ?error ?Exception"]));
                }
                v
            }
            None => return Err(understood),
        },
        Some("performance") => match &resource {
            Some(r) => s(&["performance", "--service", r]),
            None => s(&["performance"]),
        },
        Some("dashboard") => s(&["dashboard"]),
        Some("issues") => {
            let mut v = s(&["issues"]);
            for sev in ["critical", "high", "medium", "low"] {
                if has(sev) {
                    v.push(format!("--{sev}"));
                }
            }
            v
        }
        Some("health") => match &resource {
            Some(r) => s(&["health", "--service", r]),
            None => s(&["health"]),
        },
        _ => return Err(understood),
    };
    // An issue carries its environment: the routed command takes it from there, and only
    // an environment the text names explicitly is passed (and checked against the issue's).
    let issue_routed = argv.iter().any(|a| a == "--issue");
    // The read-only central views cover every environment unless one is named, as in the
    // plugin ("list all critical issues" shows prod's too).
    let central = matches!(argv[0].as_str(), "issues" | "dashboard" | "status");
    if argv[0] != "escalate" && (!issue_routed || explicit_env) && (!central || explicit_env) {
        argv.extend(s(&["--env", &env]));
    }
    Ok(argv)
}

/// A command line for display: `health --env prod`, quoting what needs it.
pub fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.contains(' ') || a.contains('?') || a.is_empty() {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        let envs = vec![
            "test".to_string(),
            "prod".to_string(),
            "staging".to_string(),
        ];
        let resources = vec![
            "api-lambda".to_string(),
            "web".to_string(),
            "orders-db".to_string(),
            "cdn".to_string(),
        ];
        match route(text, &envs, &resources) {
            Ok(argv) => display(&argv),
            Err(u) => format!("unroutable {u:?}"),
        }
    }

    #[test]
    fn thirty_phrasings_route_to_their_command() {
        let cases = [
            ("what's production status?", "health --env prod"),
            ("is prod healthy", "health --env prod"),
            (
                "is the api-lambda alive in production",
                "health --service api-lambda --env prod",
            ),
            ("uptime of test", "health --env test"),
            ("check health", "health --env test"),
            ("is web down?", "health --service web --env test"),
            (
                "show me the logs for api-lambda",
                "logs --service api-lambda --env test",
            ),
            (
                "find errors in api-lambda logs on prod",
                "logs --service api-lambda --filter \"?ERROR ?Error ?error ?Exception\" --env prod",
            ),
            ("grep web logs", "logs --service web --env test"),
            (
                "investigate the api-lambda errors",
                "investigate \"investigate the api-lambda errors\" --env test",
            ),
            (
                "what happened to orders-db last night",
                "investigate \"what happened to orders-db last night\" --env test",
            ),
            (
                "why is web slow in prod",
                "investigate \"why is web slow in prod\" --env prod",
            ),
            ("root cause of infra-003", "investigate --issue infra-003"),
            (
                "diagnose staging",
                "investigate \"diagnose staging\" --env staging",
            ),
            ("performance of web", "performance --service web --env test"),
            (
                "show latency trends in production",
                "performance --env prod",
            ),
            (
                "metrics for orders-db",
                "performance --service orders-db --env test",
            ),
            ("is the api slow", "performance --env test"),
            (
                "restart the api lambda",
                "remediate \"restart the api lambda\" --env test",
            ),
            (
                "scale web to 4 tasks in prod",
                "remediate \"scale web to 4 tasks in prod\" --env prod",
            ),
            (
                "clear the cache of the cdn",
                "remediate \"clear the cache of the cdn\" --env test",
            ),
            ("fix infra-002", "remediate --issue infra-002"),
            (
                "fix infra-002 in prod",
                "remediate --issue infra-002 --env prod",
            ),
            (
                "how much did we spend this month",
                "audit --type cost --env test",
            ),
            (
                "run a security audit on prod",
                "audit --type security --env prod",
            ),
            ("are we compliant", "audit --type compliance --env test"),
            ("audit everything", "audit --type all --env test"),
            ("show the dashboard", "dashboard"),
            ("give me an overview of production", "dashboard --env prod"),
            ("list critical issues", "issues --critical"),
            ("what's broken in prod", "issues --env prod"),
            ("escalate infra-001", "escalate infra-001"),
            ("open a ticket for infra-004", "escalate infra-004"),
        ];
        for (text, expected) in cases {
            assert_eq!(r(text), expected, "{text}");
        }
    }

    #[test]
    fn what_cannot_be_routed_says_what_was_understood() {
        assert!(r("make me a sandwich").starts_with("unroutable"));
        let u = route("escalate it now in prod", &["prod".into()], &[]).unwrap_err();
        assert_eq!(u.intent, Some("escalate"));
        assert_eq!(u.environment.as_deref(), Some("prod"));
        assert!(
            route("show logs", &["test".into()], &[]).is_err(),
            "logs need a resource"
        );
    }
}
