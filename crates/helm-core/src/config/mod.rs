//! Configuration: the shared files (`aws-credentials.json`, `environments.json`, the legacy
//! faber-cloud config), `monitoring.toml`, and the precedence rules that merge them with
//! environment variables and flags. Every merged value knows where it came from.

pub mod duration;
pub mod monitoring;
pub mod settings;
pub mod validate;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::ProjectPaths;
use crate::registry::{find_line, from_value, parse_json};
use crate::suggest;
use crate::version;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use monitoring::{Monitoring, Setting};

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File {
        path: PathBuf,
        line: Option<usize>,
    },
    Env(&'static str),
    Flag(&'static str),
    /// Derived from something else (for example the profile of the selected environment).
    Derived(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File {
                path,
                line: Some(l),
            } => write!(f, "{}:{l}", path.display()),
            Source::File { path, line: None } => write!(f, "{}", path.display()),
            Source::Env(v) => write!(f, "env {v}"),
            Source::Flag(n) => write!(f, "flag {n}"),
            Source::Derived(s) => f.write_str(s),
        }
    }
}

/// One environment of `environments.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Environment {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// What the file says; None when it says nothing.
    #[serde(default, rename = "requires_confirmation")]
    pub requires_confirmation_given: Option<bool>,
    /// What the policy uses: an environment that does not say fails closed and asks.
    #[serde(skip_deserializing, default = "fail_closed")]
    pub requires_confirmation: bool,
    /// The accounts this environment spans, each reached by assuming a role (empty: the
    /// project's own credentials reach everything). helm-cloud addition.
    #[serde(default)]
    pub accounts: Vec<AccountAccess>,
}

/// A region name's shape: `us-east-1`, `eu-central-2`, `us-gov-west-1`.
pub fn valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// How to reach one account of an environment: the role to assume, and the regions its
/// resources live in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccountAccess {
    pub account_id: String,
    pub role_arn: String,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub regions: Vec<String>,
}

impl AccountAccess {
    /// What is wrong with it, if anything: a 12-digit account, a role ARN of that account,
    /// region names.
    pub fn problem(&self) -> Option<String> {
        if self.account_id.len() != 12 || !self.account_id.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!(
                "account_id {:?} is not a 12-digit AWS account id",
                self.account_id
            ));
        }
        let role = self
            .role_arn
            .strip_prefix("arn:")
            .and_then(|r| r.split_once(":iam::"))
            .and_then(|(_, r)| r.split_once(":role/"));
        match role {
            Some((acct, name)) if acct == self.account_id && !name.is_empty() => {}
            Some((acct, _)) if acct != self.account_id => {
                return Some(format!(
                    "role_arn {:?} is a role of account {acct}, not of {}",
                    self.role_arn, self.account_id
                ));
            }
            _ => {
                return Some(format!(
                    "role_arn {:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                    self.role_arn
                ));
            }
        }
        if let Some(bad) = self.regions.iter().find(|r| !valid_region(r)) {
            return Some(format!("{bad:?} is not an AWS region name"));
        }
        None
    }
}

fn fail_closed() -> bool {
    true
}

impl Environments {
    /// Environments whose `requires_confirmation` is missing (they ask before every change).
    pub fn unstated_confirmation(&self) -> Vec<&str> {
        self.list
            .iter()
            .filter(|(_, e)| e.requires_confirmation_given.is_none())
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

#[derive(Debug, Deserialize)]
struct EnvironmentsFile {
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<String>,
    environments: BTreeMap<String, Environment>,
}

/// The valid environments and where they were defined.
#[derive(Debug, Clone)]
pub struct Environments {
    pub list: BTreeMap<String, Environment>,
    pub source: Source,
}

impl Environments {
    /// `test` and `prod`, as when `environments.json` is absent.
    pub fn builtin() -> Self {
        let mut list = BTreeMap::new();
        list.insert(
            "test".into(),
            Environment {
                name: Some("test".into()),
                description: Some("Test/development environment".into()),
                requires_confirmation_given: Some(false),
                requires_confirmation: false,
                accounts: Vec::new(),
            },
        );
        list.insert(
            "prod".into(),
            Environment {
                name: Some("prod".into()),
                description: Some("Production environment".into()),
                requires_confirmation_given: Some(true),
                requires_confirmation: true,
                accounts: Vec::new(),
            },
        );
        Environments {
            list,
            source: Source::Default,
        }
    }

    /// The environment called `name`, or a usage error listing the valid ones.
    pub fn get(&self, name: &str) -> Result<&Environment> {
        self.list.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.list.keys().map(String::as_str).collect();
            let mut hint = format!("valid environments ({}): {}", self.source, names.join(", "));
            if let Some(near) = suggest::nearest(name, names.iter().copied()) {
                hint = format!("did you mean `{near}`? {hint}");
            }
            Error::usage(format!("unknown environment `{name}`"), Some(hint))
        })
    }

    pub fn names(&self) -> Vec<&str> {
        self.list.keys().map(String::as_str).collect()
    }

    /// The configured environment `name` means: itself when configured, else the one
    /// configured environment of its alias group (`production`, `prod`, `prd`, `live`;
    /// `test`, `testing`; `staging`, `stage`, `stg`; `development`, `dev`). An alias that
    /// names none, or several, is refused with the valid names.
    pub fn resolve(&self, name: &str) -> Result<String> {
        if self.list.contains_key(name) {
            return Ok(name.to_string());
        }
        const GROUPS: &[&[&str]] = &[
            &["production", "prod", "prd", "live"],
            &["test", "testing"],
            &["staging", "stage", "stg"],
            &["development", "dev"],
        ];
        let lower = name.to_ascii_lowercase();
        if let Some(group) = GROUPS.iter().find(|g| g.contains(&lower.as_str())) {
            let hits: Vec<&str> = self
                .names()
                .into_iter()
                .filter(|n| group.contains(&n.to_ascii_lowercase().as_str()))
                .collect();
            match hits.as_slice() {
                [one] => return Ok(one.to_string()),
                [] => {}
                many => {
                    return Err(Error::usage(
                        format!("environment `{name}` is ambiguous: {}", many.join(", ")),
                        Some("name the environment exactly".into()),
                    ));
                }
            }
        }
        self.get(name).map(|_| name.to_string())
    }
}

/// AWS account settings from `aws-credentials.json` or the legacy faber-cloud config.
#[derive(Debug, Clone, Default)]
pub struct AwsFile {
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub profiles: BTreeMap<String, String>,
    /// The file they came from (None: neither file exists).
    pub source: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
struct AwsSection {
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct AwsCredentialsFile {
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<String>,
    aws: AwsSection,
}

/// The whole configuration of a project, loaded and checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub paths: ProjectPaths,
    pub aws: AwsFile,
    pub environments: Environments,
    pub monitoring: Monitoring,
    /// Warnings worth showing (a fallback file in use, a legacy config read…).
    pub warnings: Vec<String>,
}

/// Read a JSON file that carries a `version`, checking the version.
fn read_versioned<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let Some(text) = fsutil::read_optional(path)? else {
        return Ok(None);
    };
    let value = parse_json(path, &text)?;
    let v = value.get("version").and_then(Value::as_str);
    version::check(path, v.map(|v| find_line(&text, &format!("\"{v}\""))), v)?;
    from_value(path, &text, value).map(Some)
}

impl Config {
    /// Load every configuration file of the project at `paths`.
    pub fn load(paths: ProjectPaths) -> Result<Config> {
        let mut warnings = Vec::new();
        let environments = load_environments(&paths)?;
        let aws = load_aws(&paths, &mut warnings)?;
        let monitoring = load_monitoring(&paths, &mut warnings)?;
        Ok(Config {
            paths,
            aws,
            environments,
            monitoring,
            warnings,
        })
    }
}

/// `environments.json`, or `test` and `prod` when it is absent.
pub fn load_environments(paths: &ProjectPaths) -> Result<Environments> {
    match read_versioned::<EnvironmentsFile>(&paths.environments())? {
        Some(file) if file.environments.is_empty() => Err(Error::invalid(
            paths.environments(),
            None,
            Some("environments".into()),
            "no environment is defined",
        )),
        Some(file)
            if let Some((name, i, why)) = file.environments.iter().find_map(|(n, e)| {
                e.accounts
                    .iter()
                    .enumerate()
                    .find_map(|(i, a)| a.problem().map(|w| (n.clone(), i, w)))
            }) =>
        {
            Err(Error::invalid(
                paths.environments(),
                None,
                Some(format!("environments.{name}.accounts[{i}]")),
                why,
            ))
        }
        Some(mut file) => Ok(Environments {
            list: {
                for e in file.environments.values_mut() {
                    e.requires_confirmation = e.requires_confirmation_given.unwrap_or(true);
                }
                file.environments
            },
            source: Source::File {
                path: paths.environments(),
                line: None,
            },
        }),
        None => Ok(Environments::builtin()),
    }
}

/// `aws-credentials.json`, else the legacy faber-cloud config, else nothing.
pub fn load_aws(paths: &ProjectPaths, warnings: &mut Vec<String>) -> Result<AwsFile> {
    if let Some(file) = read_versioned::<AwsCredentialsFile>(&paths.aws_credentials())? {
        return Ok(AwsFile {
            account_id: file.aws.account_id,
            region: file.aws.region,
            profiles: file.aws.profiles,
            source: Some(paths.aws_credentials()),
        });
    }
    let path = paths.legacy_faber_config();
    let Some(text) = fsutil::read_optional(&path)? else {
        return Ok(AwsFile::default());
    };
    let value = parse_json(&path, &text)?;
    let v = value.get("version").and_then(Value::as_str);
    version::check(&path, v.map(|v| find_line(&text, &format!("\"{v}\""))), v)?;
    // faber-cloud's config.json: `handlers.hosting.aws` (what faber-cloud writes), else
    // the older `providers.aws`, else a top-level `aws` (its devops template).
    let section = value
        .pointer("/handlers/hosting/aws")
        .or_else(|| value.pointer("/providers/aws"))
        .or_else(|| value.get("aws"));
    let Some(section) = section else {
        warnings.push(format!(
            "{} has no AWS settings (handlers.hosting.aws); account and region come from elsewhere",
            paths.display(&path)
        ));
        return Ok(AwsFile {
            source: Some(path),
            ..AwsFile::default()
        });
    };
    let shown = paths.display(&path).into_owned();
    let mut text_of = |key: &str| -> Option<String> {
        let v = section.get(key)?.as_str()?.trim().to_string();
        if is_placeholder(&v) {
            warnings.push(format!(
                "{shown}: {key} is the placeholder {v:?}; set the real value (it is ignored until then)"
            ));
            return None;
        }
        (!v.is_empty()).then_some(v)
    };
    let account_id = text_of("account_id");
    let region = text_of("region");
    let mut profiles = BTreeMap::new();
    if let Some(map) = section.get("profiles").and_then(Value::as_object) {
        for (k, v) in map {
            let Some(p) = v.as_str().map(str::trim).filter(|p| !p.is_empty()) else {
                continue;
            };
            if is_placeholder(p) {
                warnings.push(format!(
                    "{shown}: profiles.{k} is the placeholder {p:?}; it is ignored"
                ));
                continue;
            }
            // faber-cloud names them `<env>_deploy`; older files use the environment.
            let env = k.strip_suffix("_deploy").unwrap_or(k);
            profiles.insert(env.to_string(), p.to_string());
        }
    }
    // aws-credentials.json, when present, was read instead (above).
    if value.pointer("/handlers/hosting/aws").is_none() {
        warnings.push(format!(
            "using the legacy AWS settings of {shown}; move them to {}",
            paths.display(&paths.aws_credentials())
        ));
    }
    Ok(AwsFile {
        account_id,
        region,
        profiles,
        source: Some(path),
    })
}

/// A template value faber-cloud leaves for the user to fill: `{{AWS_ACCOUNT_ID}}`,
/// `YOUR_AWS_ACCOUNT_ID`, `<account-id>`.
pub fn is_placeholder(v: &str) -> bool {
    let u = v.to_ascii_uppercase();
    v.contains("{{")
        || u.starts_with("YOUR_")
        || u.contains("_HERE")
        || (v.starts_with('<') && v.ends_with('>'))
}

/// `monitoring.toml` from its preferred location, else the fallback, else the defaults.
pub fn load_monitoring(paths: &ProjectPaths, warnings: &mut Vec<String>) -> Result<Monitoring> {
    let (primary, fallback) = (paths.monitoring(), paths.monitoring_fallback());
    match fsutil::read_optional(&primary)? {
        Some(text) => {
            if fallback.exists() {
                warnings.push(format!(
                    "{} is ignored because {} exists",
                    paths.display(&fallback),
                    paths.display(&primary)
                ));
            }
            Monitoring::parse(&primary, &text)
        }
        None => match fsutil::read_optional(&fallback)? {
            Some(text) => Monitoring::parse(&fallback, &text),
            None => Ok(Monitoring::defaults()),
        },
    }
}

/// What the process was given, before precedence is applied: flags and environment
/// variables. The binary fills this; the rules live here so they are tested without a shell.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub flag_profile: Option<String>,
    pub env_profile: Option<String>,
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are both set.
    pub env_has_keys: bool,
    pub flag_region: Option<String>,
    pub env_region: Option<String>,
    pub flag_endpoint: Option<String>,
    pub env_endpoint: Option<String>,
}

/// A resolved value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved<T> {
    pub value: T,
    pub source: Source,
}

/// How AWS credentials will be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A named profile of ~/.aws/config.
    Profile(String),
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment.
    EnvironmentKeys,
    /// The SDK's default chain (web identity, container and instance roles…).
    DefaultChain,
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Profile(p) => write!(f, "profile {p}"),
            Credentials::EnvironmentKeys => f.write_str("access keys from the environment"),
            Credentials::DefaultChain => f.write_str("the SDK's default credential chain"),
        }
    }
}

impl Config {
    /// `--profile` > `AWS_PROFILE` > access keys in the environment > `aws.profiles[<env>]`
    /// > the SDK's default chain.
    pub fn credentials(&self, inputs: &Inputs, environment: &str) -> Resolved<Credentials> {
        if let Some(p) = &inputs.flag_profile {
            return Resolved {
                value: Credentials::Profile(p.clone()),
                source: Source::Flag("--profile"),
            };
        }
        if let Some(p) = &inputs.env_profile {
            return Resolved {
                value: Credentials::Profile(p.clone()),
                source: Source::Env("AWS_PROFILE"),
            };
        }
        if inputs.env_has_keys {
            return Resolved {
                value: Credentials::EnvironmentKeys,
                source: Source::Env("AWS_ACCESS_KEY_ID"),
            };
        }
        if let (Some(p), Some(file)) = (self.aws.profiles.get(environment), &self.aws.source) {
            return Resolved {
                value: Credentials::Profile(p.clone()),
                source: Source::File {
                    path: file.clone(),
                    line: None,
                },
            };
        }
        Resolved {
            value: Credentials::DefaultChain,
            source: Source::Default,
        }
    }

    /// `--region` > `AWS_REGION` > the resource ARN's > `aws.region` > `us-east-1`.
    pub fn region(&self, inputs: &Inputs, arn_region: Option<&str>) -> Resolved<String> {
        if let Some(r) = &inputs.flag_region {
            return Resolved {
                value: r.clone(),
                source: Source::Flag("--region"),
            };
        }
        if let Some(r) = &inputs.env_region {
            return Resolved {
                value: r.clone(),
                source: Source::Env("AWS_REGION"),
            };
        }
        if let Some(r) = arn_region {
            return Resolved {
                value: r.to_string(),
                source: Source::Derived("the resource's ARN".into()),
            };
        }
        if let (Some(r), Some(file)) = (&self.aws.region, &self.aws.source) {
            return Resolved {
                value: r.clone(),
                source: Source::File {
                    path: file.clone(),
                    line: None,
                },
            };
        }
        Resolved {
            value: "us-east-1".into(),
            source: Source::Default,
        }
    }

    /// `--endpoint-url` > `AWS_ENDPOINT_URL` > none (the real AWS endpoints).
    pub fn endpoint(&self, inputs: &Inputs) -> Option<Resolved<String>> {
        if let Some(e) = &inputs.flag_endpoint {
            return Some(Resolved {
                value: e.clone(),
                source: Source::Flag("--endpoint-url"),
            });
        }
        inputs.env_endpoint.as_ref().map(|e| Resolved {
            value: e.clone(),
            source: Source::Env("AWS_ENDPOINT_URL"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_aliases_resolve_only_where_unambiguous() {
        let e = Environments::builtin();
        assert_eq!(e.resolve("production").unwrap(), "prod");
        assert_eq!(e.resolve("live").unwrap(), "prod");
        assert_eq!(e.resolve("test").unwrap(), "test");
        assert!(e.resolve("staging").is_err());
        let mut two = Environments::builtin();
        let prod = two.list["prod"].clone();
        two.list.insert("live".into(), prod);
        assert_eq!(two.resolve("live").unwrap(), "live", "an exact name wins");
        assert!(
            two.resolve("production").is_err(),
            "prod and live: ambiguous"
        );
    }

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, ProjectPaths) {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let paths = ProjectPaths::new(dir.path());
        (dir, paths)
    }

    const CREDS: &str = r#"{ "version": "1.0.0",
  "aws": { "account_id": "123456789012", "region": "eu-west-1",
           "profiles": { "test": "acme-test-deploy", "prod": "acme-prod-deploy" } } }"#;

    #[test]
    fn absent_files_give_builtin_environments_and_defaults() {
        let (_d, paths) = project(&[]);
        let c = Config::load(paths).unwrap();
        assert_eq!(c.environments.names(), vec!["prod", "test"]);
        assert!(c.environments.get("prod").unwrap().requires_confirmation);
        assert_eq!(c.aws.source, None);
        assert_eq!(c.monitoring.file, None);
    }

    #[test]
    fn custom_environments_replace_the_builtin_ones() {
        let (_d, paths) = project(&[(
            ".fractary/shared/environments.json",
            r#"{"version":"1.0.0","environments":{"qa":{"name":"qa","requires_confirmation":false},"live":{"requires_confirmation":true}}}"#,
        )]);
        let c = Config::load(paths).unwrap();
        assert_eq!(c.environments.names(), vec!["live", "qa"]);
        let err = c.environments.get("prod").unwrap_err();
        assert!(matches!(err, Error::Usage { .. }));
        assert!(err.hint().unwrap().contains("live, qa"), "{:?}", err.hint());
        let err = c.environments.get("lve").unwrap_err();
        assert!(err.hint().unwrap().starts_with("did you mean `live`?"));
    }

    #[test]
    fn credentials_follow_the_documented_precedence() {
        let (_d, paths) = project(&[(".fractary/shared/aws-credentials.json", CREDS)]);
        let c = Config::load(paths).unwrap();
        let mut i = Inputs::default();
        assert_eq!(
            c.credentials(&i, "prod").value,
            Credentials::Profile("acme-prod-deploy".into())
        );
        assert_eq!(c.credentials(&i, "dev").value, Credentials::DefaultChain);
        i.env_has_keys = true;
        assert_eq!(
            c.credentials(&i, "prod").value,
            Credentials::EnvironmentKeys
        );
        i.env_profile = Some("from-env".into());
        assert_eq!(
            c.credentials(&i, "prod").value,
            Credentials::Profile("from-env".into())
        );
        assert_eq!(c.credentials(&i, "prod").source, Source::Env("AWS_PROFILE"));
        i.flag_profile = Some("from-flag".into());
        assert_eq!(
            c.credentials(&i, "prod").value,
            Credentials::Profile("from-flag".into())
        );
        assert_eq!(c.credentials(&i, "prod").source, Source::Flag("--profile"));
    }

    #[test]
    fn region_follows_the_documented_precedence() {
        let (_d, paths) = project(&[(".fractary/shared/aws-credentials.json", CREDS)]);
        let c = Config::load(paths).unwrap();
        let mut i = Inputs::default();
        assert_eq!(c.region(&i, None).value, "eu-west-1");
        assert_eq!(c.region(&i, Some("ap-south-1")).value, "ap-south-1");
        i.env_region = Some("us-west-2".into());
        assert_eq!(c.region(&i, Some("ap-south-1")).value, "us-west-2");
        i.flag_region = Some("ca-central-1".into());
        assert_eq!(c.region(&i, Some("ap-south-1")).value, "ca-central-1");
        let (_d2, bare) = project(&[]);
        assert_eq!(
            Config::load(bare)
                .unwrap()
                .region(&Inputs::default(), None)
                .value,
            "us-east-1"
        );
    }

    #[test]
    fn legacy_faber_config_is_the_fallback_for_aws_settings() {
        let (_d, paths) = project(&[(
            ".fractary/plugins/faber-cloud/config.json",
            r#"{"version":"1.0","providers":{"aws":{"account_id":"999999999999","region":"us-west-1","profiles":{"test":"old-test"}}}}"#,
        )]);
        let c = Config::load(paths).unwrap();
        assert_eq!(c.aws.account_id.as_deref(), Some("999999999999"));
        assert_eq!(c.region(&Inputs::default(), None).value, "us-west-1");
        assert_eq!(
            c.credentials(&Inputs::default(), "test").value,
            Credentials::Profile("old-test".into())
        );
        assert!(c.warnings.iter().any(|w| w.contains("legacy")));
    }

    #[test]
    fn monitoring_fallback_location_is_read_when_the_primary_is_absent() {
        let (_d, paths) = project(&[(
            ".fractary/plugins/helm-cloud/monitoring.toml",
            "[cost]\ndaily_budget_usd = 7\n",
        )]);
        let c = Config::load(paths).unwrap();
        assert_eq!(c.monitoring.number("cost.daily_budget_usd"), Some(7.0));
    }

    #[test]
    fn broken_json_and_wrong_types_name_file_line_and_field() {
        let (_d, paths) = project(&[(
            ".fractary/shared/environments.json",
            "{\n  \"environments\": {\n    \"qa\": \n",
        )]);
        let err = Config::load(paths).unwrap_err();
        let Error::InvalidFile { path, line, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(path.ends_with("environments.json"));
        assert!(line.is_some());

        let (_d, paths) = project(&[(
            ".fractary/shared/environments.json",
            "{\n  \"environments\": {\n    \"qa\": { \"requires_confirmation\": \"yes\" }\n  }\n}\n",
        )]);
        let err = Config::load(paths).unwrap_err();
        let Error::InvalidFile { line, field, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(
            field.as_deref(),
            Some("environments.qa.requires_confirmation")
        );
        assert_eq!(*line, Some(3));
    }

    #[test]
    fn a_newer_major_version_is_refused() {
        let (_d, paths) = project(&[(
            ".fractary/shared/aws-credentials.json",
            r#"{"version":"2.0.0","aws":{}}"#,
        )]);
        let err = Config::load(paths).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
    }
}
