//! What a command looks at: the resources `--service` names (an id, or every resource of
//! a kind), each with its kind and region decided; the time window of a duration flag; and
//! the environment an issue lives in. Every front end chooses its scope through these.

type Timestamp = chrono::DateTime<chrono::Utc>;
use crate::config::duration;
use crate::error::{Error, Result};
use crate::issues::{self, Issue, IssueStore};
use crate::monitor::check::Target;
use crate::monitor::report::Skipped;
use crate::registry::{EnvironmentView, Resource};
use crate::resource::ResourceKind;

/// What `--service X` names: the resource with id X, else (the plugins' usage,
/// `--service=lambda`) every resource of kind X. Nothing: a usage error listing the ids.
pub fn by_service(view: &EnvironmentView, id: &str) -> Result<Vec<Resource>> {
    if let Some(r) = view.get(id) {
        return Ok(vec![r.clone()]);
    }
    if let Some(kind) = ResourceKind::parse(id) {
        let of_kind: Vec<_> = view
            .resources
            .iter()
            .filter(|r| r.kind == Some(kind))
            .cloned()
            .collect();
        if !of_kind.is_empty() {
            return Ok(of_kind);
        }
    }
    Err(unknown_service(view, id))
}

/// `--service X` where one resource is needed: a kind with several resources is refused,
/// listing them.
pub fn one_service(view: &EnvironmentView, id: &str) -> Result<Resource> {
    let mut found = by_service(view, id)?;
    if found.len() == 1 {
        return Ok(found.remove(0));
    }
    Err(Error::usage(
        format!(
            "--service {id} names {} resources in environment {}: {}",
            found.len(),
            view.environment,
            found
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some("pass one of their ids".into()),
    ))
}

/// No resource `id` in the environment: the error, with the nearest id and the list.
pub fn unknown_service(view: &EnvironmentView, id: &str) -> Error {
    let ids: Vec<&str> = view.resources.iter().map(|r| r.id.as_str()).collect();
    let listed = if ids.is_empty() {
        "the environment has no resources".to_string()
    } else {
        format!("resources: {}", ids.join(", "))
    };
    let hint = match crate::suggest::nearest(id, ids.iter().copied()) {
        Some(near) => format!("did you mean {near:?}? {listed}"),
        None => listed,
    };
    Error::usage(
        format!("no resource {id:?} in environment {}", view.environment),
        Some(hint),
    )
}

/// The resources to check (all of the environment, or `--service ID`), each with its
/// region from `region_of(the ARN's region)`; those of a kind helm-cloud does not monitor
/// are skipped, saying so.
pub fn targets(
    view: &EnvironmentView,
    service: Option<&str>,
    region_of: impl Fn(Option<&str>) -> String,
) -> Result<(Vec<Target>, Vec<Skipped>)> {
    let chosen: Vec<_> = match service {
        Some(id) => by_service(view, id)?,
        None => view.resources.clone(),
    };
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for r in chosen {
        match r.kind {
            Some(kind) => {
                let region = region_of(r.region.as_deref());
                targets.push(Target {
                    resource: r,
                    kind,
                    region,
                });
            }
            None => skipped.push(Skipped {
                id: r.id.clone(),
                type_name: r.type_name.clone(),
                reason: "unsupported type".into(),
            }),
        }
    }
    Ok((targets, skipped))
}

/// `[now − timeframe, now)`, from the value of duration flag `flag`.
pub fn window(now: Timestamp, flag: &str, timeframe: &str) -> Result<(Timestamp, Timestamp)> {
    let d = duration::parse(timeframe).map_err(|e| {
        Error::usage(
            format!("{flag}: {e}"),
            Some("write it as 30m, 1h, 24h or 7d".into()),
        )
    })?;
    let span = chrono::Duration::from_std(d)
        .ok()
        .filter(|s| now.checked_sub_signed(*s).is_some())
        .ok_or_else(|| Error::usage(format!("{flag} {timeframe} is too long"), None))?;
    Ok((now - span, now))
}

/// The environment a command acts in: an issue's own environment when it names one (an
/// explicit `--env` that differs is refused, naming both), else `--env`, else `test`.
pub fn env_for_issue(
    store: &IssueStore,
    env: Option<&str>,
    issue: Option<&str>,
) -> Result<(String, Option<Issue>)> {
    let Some(id) = issue else {
        return Ok((env.unwrap_or("test").to_string(), None));
    };
    let found = find_issue(store, id)?;
    if let Some(e) = env
        && e != found.environment
    {
        return Err(Error::usage(
            format!(
                "issue {id} is in environment {}, not {e} (--env {e})",
                found.environment
            ),
            Some(format!(
                "drop --env, or pass --env {}: an issue is acted on in its own environment",
                found.environment
            )),
        ));
    }
    Ok((found.environment.clone(), Some(found)))
}

/// Issue `id`, or a usage error when the id is malformed or no issue has it.
pub fn find_issue(store: &IssueStore, id: &str) -> Result<Issue> {
    issues::check_id(id)?;
    store.get(id)?.ok_or_else(|| {
        Error::usage(
            format!("no issue {id}"),
            Some("`helm-cloud issues` lists them".into()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> EnvironmentView {
        crate::testing::view(
            r#"{"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-west-2:123456789012:function:api"},
            {"id": "worker", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:worker"},
            {"id": "vpc", "type": "vpc", "arn": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1"}"#,
        )
    }

    #[test]
    fn a_service_is_an_id_or_a_kind_and_an_unknown_one_suggests_the_nearest() {
        let v = view();
        assert_eq!(by_service(&v, "api").unwrap().len(), 1);
        assert_eq!(by_service(&v, "lambda").unwrap().len(), 2);
        let e = one_service(&v, "lambda").unwrap_err();
        assert!(e.to_string().contains("names 2 resources"), "{e}");
        let e = by_service(&v, "apj").unwrap_err();
        assert!(e.hint().unwrap().contains("did you mean \"api\""), "{e:?}");
    }

    #[test]
    fn targets_take_the_region_given_and_skip_unmonitored_kinds() {
        let (t, skipped) = targets(&view(), None, |arn| arn.unwrap_or("eu-west-1").into()).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].region, "us-west-2");
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].id, "vpc");
    }

    #[test]
    fn a_window_is_a_duration_back_from_now_and_a_bad_one_is_a_usage_error() {
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let (s, e) = window(now, "--since", "30m").unwrap();
        assert_eq!((e - s).num_minutes(), 30);
        assert!(window(now, "--since", "soon").is_err());
        assert!(window(now, "--since", "99999999999d").is_err());
    }
}
