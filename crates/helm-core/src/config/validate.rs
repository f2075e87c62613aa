//! `config validate` and `config show` as data: each project file checked (ok, absent,
//! invalid with its line and hint, or a warning), the warnings that are no error, and the
//! effective settings with where each came from.

use super::{Config, Inputs, Source};
use crate::error::Error;
use crate::paths::ProjectPaths;
use crate::registry::Registry;
use crate::{fsutil, registry as reg, version};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The outcome of checking one file.
#[derive(Debug, Clone)]
pub struct FileCheck {
    pub path: PathBuf,
    /// `ok`, `absent`, `invalid` or `warning`.
    pub status: &'static str,
    pub detail: String,
    pub hint: Option<String>,
}

fn check<T>(path: &Path, result: Result<T, Error>, ok: impl FnOnce(T) -> String) -> FileCheck {
    let path = path.to_path_buf();
    match result {
        Ok(v) if path.exists() => FileCheck {
            detail: ok(v),
            path,
            status: "ok",
            hint: None,
        },
        Ok(_) => FileCheck {
            path,
            status: "absent",
            detail: "not present: defaults apply".into(),
            hint: None,
        },
        Err(e) => FileCheck {
            path,
            status: "invalid",
            hint: e.hint().map(str::to_string),
            detail: e.to_string(),
        },
    }
}

/// Every project file checked.
#[derive(Debug, Clone)]
pub struct Validation {
    pub checks: Vec<FileCheck>,
    pub warnings: Vec<String>,
    /// The environments of environments.json, when it could be read.
    pub environments: Option<Vec<String>>,
}

impl Validation {
    pub fn valid(&self) -> bool {
        self.checks.iter().all(|c| c.status != "invalid")
    }

    pub fn invalid_count(&self) -> usize {
        self.checks.iter().filter(|c| c.status == "invalid").count()
    }
}

/// Check every file of the project, without any call to AWS.
pub fn validate(paths: &ProjectPaths) -> Validation {
    let mut warnings = Vec::new();
    let environments = super::load_environments(paths);
    let env_names: Option<Vec<String>> = environments
        .as_ref()
        .ok()
        .map(|e| e.names().into_iter().map(str::to_string).collect());
    if let Ok(e) = &environments {
        for name in e.unstated_confirmation() {
            warnings.push(format!(
                "environment {name:?} does not say requires_confirmation: it is treated as true (every change asks); set it in {}",
                paths.display(&paths.environments())
            ));
        }
    }
    let mut checks = vec![check(&paths.environments(), environments, |e| {
        format!("{} environments: {}", e.list.len(), e.names().join(", "))
    })];
    let aws_path = if !paths.aws_credentials().exists() && paths.legacy_faber_config().exists() {
        paths.legacy_faber_config()
    } else {
        paths.aws_credentials()
    };
    checks.push(check(
        &aws_path,
        super::load_aws(paths, &mut warnings),
        |a| {
            format!(
                "account {}, region {}, {} profiles",
                a.account_id.as_deref().unwrap_or("(unset)"),
                a.region.as_deref().unwrap_or("(unset)"),
                a.profiles.len()
            )
        },
    ));
    let mon_path = if paths.monitoring().exists() || !paths.monitoring_fallback().exists() {
        paths.monitoring()
    } else {
        paths.monitoring_fallback()
    };
    let monitoring = super::load_monitoring(paths, &mut warnings);
    let mut secret_checks = Vec::new();
    if let Ok(m) = &monitoring {
        warnings.extend(crate::responder::policy::listed_twice(m));
        let settings = m.settings();
        let env = |k: &str| std::env::var(k).ok();
        for c in &settings.notifications.channels {
            if let Some(missing) = c.missing_secret(&env) {
                secret_checks.push(FileCheck {
                    path: mon_path.clone(),
                    status: "invalid",
                    detail: format!("[notifications.{}]: {missing}", c.name),
                    hint: Some(format!(
                        "export it before running helm-cloud (secrets never go in a file), or remove [notifications.{}]",
                        c.name
                    )),
                });
            }
        }
        if !settings.notifications.channels.is_empty() {
            for name in settings.routes().1 {
                warnings.push(format!(
                    "[escalation] names the channel {name:?}, which has no [notifications.{name}] table: nothing is sent to it"
                ));
            }
        }
    }
    checks.push(check(&mon_path, monitoring, |m| {
        format!(
            "{} settings ({} from the file)",
            m.values.len(),
            m.values
                .values()
                .filter(|s| s.source != Source::Default)
                .count()
        )
    }));
    checks.extend(secret_checks);
    let registry = Registry::load(&paths.registry());
    if let (Ok(r), Some(names)) = (&registry, &env_names) {
        for e in r.environments() {
            if !names.iter().any(|n| n == e) {
                warnings.push(format!("the registry has deployments in environment {e:?}, which environments.json does not define"));
            }
        }
        for e in r.environments() {
            for res in r
                .environment_view(e)
                .resources
                .iter()
                .filter(|x| x.kind.is_none())
            {
                warnings.push(format!(
                    "{e}/{}: unsupported type {:?} (listed, never checked)",
                    res.id, res.type_name
                ));
            }
        }
    }
    checks.push(check(&paths.registry(), registry, |r| {
        format!(
            "{} deployments in {} environments",
            r.deployments.len(),
            r.environments().len()
        )
    }));
    // faber-cloud's per-environment registries.
    if let Ok(entries) = std::fs::read_dir(paths.faber_deployments()) {
        let mut files: Vec<std::path::PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path().join("registry.json")))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for f in files {
            let env = f
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let parsed = crate::registry::faber_environment_registry(&f, &text, &env);
            checks.push(check(&f, parsed, |d| {
                format!(
                    "faber-cloud registry of {}: {} resources",
                    d.environment,
                    d.resources.len()
                )
            }));
        }
    }
    let monitors = check_json_file(&paths.domain_monitors());
    checks.push(check(&paths.domain_monitors(), monitors, |_| {
        "valid JSON".into()
    }));
    let suppressions_path = paths.plugin_dir().join("config/audit-suppressions.toml");
    let suppressions = crate::auditor::suppress::Suppressions::load(&suppressions_path);
    checks.push(check(&suppressions_path, suppressions, |s| {
        format!("{} audit suppression(s)", s.rules.len())
    }));
    // A file whose values are unfilled placeholders is not "ok".
    for c in &mut checks {
        if c.status == "ok"
            && warnings.iter().any(|w| {
                w.starts_with(&format!("{}:", paths.display(&c.path))) && w.contains("placeholder")
            })
        {
            c.status = "warning";
            c.hint = Some("fill in the placeholders (they are ignored until then)".into());
        }
    }

    Validation {
        checks,
        warnings,
        environments: env_names,
    }
}

/// A JSON file with an optional `version`: syntax and version only.
fn check_json_file(path: &Path) -> Result<(), Error> {
    let Some(text) = fsutil::read_optional(path)? else {
        return Ok(());
    };
    let value = reg::parse_json(path, &text)?;
    let v = value.get("version").and_then(Value::as_str);
    version::check(path, None, v)?;
    Ok(())
}

/// The effective settings for `env`: (key, value, where it came from).
pub fn effective(
    config: &Config,
    inputs: &Inputs,
    env: &str,
) -> crate::Result<Vec<(String, Value, Source)>> {
    let environment = config.environments.get(env)?;
    let env_source = if env == "test" {
        Source::Default
    } else {
        Source::Flag("--env")
    };
    let creds = config.credentials(inputs, env);
    let region = config.region(inputs, None);
    let endpoint = config.endpoint(inputs);
    let aws_source = config
        .aws
        .source
        .clone()
        .map(|p| Source::File {
            path: p,
            line: None,
        })
        .unwrap_or(Source::Default);

    let mut settings: Vec<(String, Value, Source)> = vec![
        ("environment".into(), json!(env), env_source),
        (
            "environment.requires_confirmation".into(),
            json!(environment.requires_confirmation),
            config.environments.source.clone(),
        ),
        (
            "environments".into(),
            json!(config.environments.names()),
            config.environments.source.clone(),
        ),
        (
            "aws.account_id".into(),
            json!(config.aws.account_id),
            aws_source.clone(),
        ),
        ("aws.region".into(), json!(region.value), region.source),
        (
            "aws.credentials".into(),
            json!(creds.value.to_string()),
            creds.source,
        ),
        (
            "aws.endpoint_url".into(),
            json!(endpoint.as_ref().map(|e| e.value.clone())),
            endpoint.map(|e| e.source).unwrap_or(Source::Default),
        ),
    ];
    for (profile_env, profile) in &config.aws.profiles {
        settings.push((
            format!("aws.profiles.{profile_env}"),
            json!(profile),
            aws_source.clone(),
        ));
    }
    for (key, s) in &config.monitoring.values {
        settings.push((key.clone(), s.value.clone(), s.source.clone()));
    }

    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_absent_ok_or_invalid_with_a_line_and_warnings_name_the_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let paths = ProjectPaths::new(dir.path());
        let v = validate(&paths);
        assert!(v.valid());
        assert!(
            v.checks.iter().all(|c| c.status == "absent"),
            "{:?}",
            v.checks
        );

        std::fs::create_dir_all(paths.environments().parent().unwrap()).unwrap();
        std::fs::write(
            paths.environments(),
            "{\"environments\": {\n  \"test\": {,\n}}",
        )
        .unwrap();
        let v = validate(&paths);
        assert!(!v.valid());
        assert_eq!(v.invalid_count(), 1);
        let bad = v.checks.iter().find(|c| c.status == "invalid").unwrap();
        assert_eq!(bad.path, paths.environments());
        assert!(
            bad.detail.contains(":2"),
            "the line is named: {}",
            bad.detail
        );

        std::fs::write(
            paths.environments(),
            r#"{"environments": {"test": {"requires_confirmation": false}}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(paths.registry().parent().unwrap()).unwrap();
        std::fs::write(
            paths.registry(),
            r#"{"deployments": [{"id": "d", "environment": "stage", "resources": []}]}"#,
        )
        .unwrap();
        let v = validate(&paths);
        assert!(v.valid(), "{:?}", v.checks);
        assert!(
            v.warnings.iter().any(|w| w.contains("\"stage\"")),
            "{:?}",
            v.warnings
        );
        assert_eq!(v.environments.as_deref(), Some(&["test".to_string()][..]));
    }
}
