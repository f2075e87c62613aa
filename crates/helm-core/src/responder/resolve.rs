//! Which action on which resource a remediation request names: an issue's resource and
//! the action that fits its check, `--service` with `--action` or a description, a
//! description alone ("restart the api lambda"), or an action that fits one resource only.

use super::action_for_check;
use super::catalogue::{self, Action};
use super::describe;
use crate::error::{Error, Result};
use crate::issues::Issue;
use crate::registry::{EnvironmentView, Resource};
use crate::resource::ResourceKind;

/// What was asked, in the user's words.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    pub description: Option<&'a str>,
    pub action: Option<&'a str>,
    pub service: Option<&'a str>,
    pub value: Option<i64>,
}

/// The action and resource meant.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub action: &'static Action,
    pub resource: Resource,
    pub value: Option<i64>,
    pub issue_id: Option<String>,
}

/// The action and resource the request names.
pub fn supported_hint() -> String {
    format!(
        "actions: {}; e.g. \"restart the api lambda\", \"scale web to 4 tasks\", \"invalidate the cdn cache\", or --action A --service ID",
        catalogue::runnable().join(", ")
    )
}

pub fn resolve(view: &EnvironmentView, req: &Asked, issue: Option<&Issue>) -> Result<Resolved> {
    let by_name = |name: &str| {
        catalogue::find(name)
            .ok_or_else(|| Error::usage(format!("unknown action {name:?}"), Some(supported_hint())))
    };
    // ops-manage's generic `restart` is the restart of the resource's kind.
    let for_resource = |name: &str, r: &Resource| -> Result<&'static Action> {
        if name == "restart" {
            return match r.kind {
                Some(ResourceKind::Lambda) => by_name("restart_lambda"),
                Some(ResourceKind::Ecs) => by_name("restart_ecs_service"),
                Some(ResourceKind::Rds) => by_name("reboot_rds"),
                _ => Err(Error::usage(
                    format!("`restart` has no meaning for {} (a {})", r.id, r.type_name),
                    Some(supported_hint()),
                )),
            };
        }
        by_name(name)
    };
    if let Some(issue) = issue {
        let id = &issue.id;
        let rid = issue
            .affected_resources
            .first()
            .cloned()
            .unwrap_or_default();
        let resource = view.get(&rid).cloned().ok_or_else(|| {
            Error::usage(
                format!(
                    "issue {id} names {rid:?}, which is not in environment {}",
                    view.environment
                ),
                None,
            )
        })?;
        let check = issue
            .fingerprint
            .splitn(3, '/')
            .nth(2)
            .unwrap_or_default()
            .to_string();
        let action = match req.action {
            Some(a) => for_resource(a, &resource)?,
            None => {
                let kind = resource.kind.ok_or_else(|| {
                    Error::usage(format!("{rid} has a type helm-cloud cannot act on"), None)
                })?;
                let name = action_for_check(kind, &check).ok_or_else(|| {
                    Error::usage(
                        format!(
                            "no action fits {} on {rid} (a {kind})",
                            if check.is_empty() {
                                "this issue".into()
                            } else {
                                format!("the check {check:?}")
                            }
                        ),
                        Some(supported_hint()),
                    )
                })?;
                by_name(name)?
            }
        };
        return Ok(Resolved {
            action,
            resource,
            value: req.value,
            issue_id: Some(issue.id.clone()),
        });
    }
    if let Some(id) = req.service {
        let resource = crate::scope::one_service(view, id)?;
        let action = match (req.action, req.description) {
            (Some(a), _) => for_resource(a, &resource)?,
            (None, Some(d)) => {
                describe::parse(d, view)
                    .map_err(|e| Error::usage(e.to_string(), Some(supported_hint())))?
                    .action
            }
            (None, None) => {
                return Err(Error::usage(
                    format!("say what to do to {id}: --action A"),
                    Some(supported_hint()),
                ));
            }
        };
        return Ok(Resolved {
            action,
            resource,
            value: req.value,
            issue_id: None,
        });
    }
    if let Some(d) = req.description {
        let parsed = describe::parse(d, view)
            .map_err(|e| Error::usage(e.to_string(), Some(supported_hint())))?;
        let action = match req.action {
            Some(a) => by_name(a)?,
            None => parsed.action,
        };
        return Ok(Resolved {
            action,
            resource: parsed.resource,
            value: req.value.or(parsed.value),
            issue_id: None,
        });
    }
    if let Some(a) = req.action {
        if a == "restart" {
            return Err(Error::usage(
                "which resource should restart act on?",
                Some("pass --service ID".into()),
            ));
        }
        let action = by_name(a)?;
        if action.never {
            // Named alone it is still refused with its reason (and recorded) below.
            let placeholder = view.resources.first().cloned();
            if let Some(resource) = placeholder {
                return Ok(Resolved {
                    action,
                    resource,
                    value: None,
                    issue_id: None,
                });
            }
        }
        // The only resource of the environment the action fits is the one meant.
        let fits: Vec<&Resource> = view
            .resources
            .iter()
            .filter(|r| r.kind.is_some_and(|k| action.kinds.contains(&k)))
            .collect();
        if let [one] = fits.as_slice() {
            return Ok(Resolved {
                action,
                resource: (*one).clone(),
                value: req.value,
                issue_id: None,
            });
        }
        return Err(Error::usage(
            format!("which resource should {} act on?", action.name),
            Some(if fits.is_empty() {
                format!(
                    "environment {} has no resource it applies to",
                    view.environment
                )
            } else {
                format!(
                    "pass --service ID: {}",
                    fits.iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        ));
    }
    Err(Error::usage(
        "say what to remediate",
        Some(supported_hint()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> EnvironmentView {
        crate::testing::view(
            r#"{"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:api"},
            {"id": "web", "type": "ecs_service", "arn": "arn:aws:ecs:us-east-1:123456789012:service/main/web"},
            {"id": "cdn", "type": "cloudfront", "arn": "arn:aws:cloudfront::123456789012:distribution/E1"},
            {"id": "site", "type": "s3_bucket", "arn": "arn:aws:s3:::site"}"#,
        )
    }

    fn ask<'a>(
        action: Option<&'a str>,
        service: Option<&'a str>,
        description: Option<&'a str>,
    ) -> Asked<'a> {
        Asked {
            action,
            service,
            description,
            value: None,
        }
    }

    #[test]
    fn restart_means_the_restart_of_the_resources_kind() {
        let v = view();
        let r = resolve(&v, &ask(Some("restart"), Some("api"), None), None).unwrap();
        assert_eq!(r.action.name, "restart_lambda");
        let r = resolve(&v, &ask(Some("restart"), Some("web"), None), None).unwrap();
        assert_eq!(r.action.name, "restart_ecs_service");
        let e = resolve(&v, &ask(Some("restart"), Some("site"), None), None).unwrap_err();
        assert!(e.to_string().contains("no meaning for site"), "{e}");
        assert!(resolve(&v, &ask(Some("restart"), None, None), None).is_err());
    }

    #[test]
    fn an_action_alone_acts_on_the_one_resource_it_fits_and_asks_when_several() {
        let v = view();
        let r = resolve(&v, &ask(Some("invalidate_cloudfront"), None, None), None).unwrap();
        assert_eq!(r.resource.id, "cdn");
        let e = resolve(&v, &ask(Some("increase_capacity"), None, None), None).unwrap_err();
        assert!(e.hint().unwrap().contains("api, web"), "{e:?}");
        let e = resolve(&v, &ask(Some("reboot_rds"), None, None), None).unwrap_err();
        assert!(
            e.hint().unwrap().contains("no resource it applies to"),
            "{e:?}"
        );
        let e = resolve(&v, &ask(Some("restart_lamda"), Some("api"), None), None).unwrap_err();
        assert!(e.to_string().contains("unknown action"), "{e}");
        assert!(e.hint().unwrap().contains("restart_lambda"));
        assert!(resolve(&v, &Asked::default(), None).is_err());
    }

    #[test]
    fn a_description_names_the_action_resource_and_value() {
        let r = resolve(
            &view(),
            &ask(None, None, Some("scale web to 4 tasks")),
            None,
        )
        .unwrap();
        assert_eq!(
            (r.action.name, r.resource.id.as_str(), r.value),
            ("scale_resources", "web", Some(4))
        );
    }
}
