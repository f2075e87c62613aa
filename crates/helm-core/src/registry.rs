//! The deployment registry (`.fractary/registry/deployments.json`): what faber-cloud
//! deployed, by environment. helm-cloud reads it for every command and rewrites it only
//! through `registry add/remove`, keeping every field it does not know.

use crate::clock::{self, Clock};
use crate::config::monitoring::SLO_KEYS;
use crate::error::{Error, Result, line_of};
use crate::fsutil::{self, FileLock};
use crate::resource::{Arn, ResourceKind};
use crate::suggest;
use crate::version;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// The whole file. Unknown fields at every level are kept in `extra` and written back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One deployment, as faber-cloud records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    pub environment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub resources: Vec<ResourceEntry>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One resource of a deployment, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceEntry {
    /// The `id` as written; faber-cloud's own registries and the plugins' shared-registry
    /// entries have none.
    #[serde(rename = "id", default, skip_serializing_if = "Option::is_none")]
    pub given_id: Option<String>,
    /// The id helm-cloud uses: the given one, else derived (see [`derive_id`]).
    #[serde(skip)]
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value>,
    /// Per-resource SLO overrides: the keys of `[slos.<type>]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Kept as written (numbers round-trip exactly); checked against `SLO_KEYS` on load.
    pub slo: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Registry {
    /// A new, empty registry stamped `now`.
    pub fn empty(now: &str) -> Self {
        Registry {
            version: Some(version::CURRENT.into()),
            created_at: Some(now.into()),
            updated_at: Some(now.into()),
            deployments: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Parse and validate the text of a registry file.
    pub fn parse(path: &Path, text: &str) -> Result<Registry> {
        let value: Value = parse_json(path, text)?;
        let file_version = value.get("version").and_then(Value::as_str);
        let line = file_version.map(|v| find_line(text, &format!("\"{v}\"")));
        version::check(path, line, file_version)?;
        let mut registry: Registry = from_value(path, text, value)?;
        registry.fill_ids();
        registry.validate(path, text)?;
        Ok(registry)
    }

    /// Give every resource its id: the given one, else one derived from its names.
    pub fn fill_ids(&mut self) {
        self.deployments.iter_mut().for_each(fill_ids);
    }

    /// The registry of a project: the central file and faber-cloud's per-environment
    /// registries (`.fractary/plugins/faber-cloud/deployments/<env>/registry.json`), each
    /// read as one deployment. Read-only: writes go to the central file alone.
    pub fn load_project(paths: &crate::paths::ProjectPaths) -> Result<Registry> {
        let mut registry = Registry::load(&paths.registry())?;
        let dir = paths.faber_deployments();
        let mut envs: Vec<std::path::PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("registry.json").is_file())
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("reading", dir, e)),
        };
        envs.sort();
        for env_dir in envs {
            let path = env_dir.join("registry.json");
            let text = fsutil::read_optional(&path)?.unwrap_or_default();
            let env = env_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut d = faber_environment_registry(&path, &text, &env)?;
            d.extra
                .insert("source".into(), Value::from(path.display().to_string()));
            registry.deployments.push(d);
        }
        Ok(registry)
    }

    /// Read the registry at `path`; an absent file is an empty registry.
    pub fn load(path: &Path) -> Result<Registry> {
        match fsutil::read_optional(path)? {
            Some(text) => Registry::parse(path, &text),
            None => Ok(Registry {
                version: Some(version::CURRENT.into()),
                created_at: None,
                updated_at: None,
                deployments: Vec::new(),
                extra: Map::new(),
            }),
        }
    }

    fn validate(&self, path: &Path, text: &str) -> Result<()> {
        let mut ids = HashSet::new();
        for (i, d) in self.deployments.iter().enumerate() {
            let at = |field: &str| format!("deployments[{i}].{field}");
            if d.id.trim().is_empty() {
                return Err(Error::invalid(
                    path,
                    None,
                    Some(at("id")),
                    "a deployment id must not be empty",
                ));
            }
            if !ids.insert(d.id.as_str()) {
                return Err(Error::invalid(
                    path,
                    Some(find_line(text, &format!("\"{}\"", d.id))),
                    Some(at("id")),
                    format!("deployment id {:?} appears twice", d.id),
                ));
            }
            validate_deployment(path, text, &format!("deployments[{i}]"), d)?;
        }
        Ok(())
    }

    /// Insert `deployment`, or replace the one with the same id. Returns true if replaced.
    pub fn upsert(&mut self, deployment: Deployment) -> bool {
        match self.deployments.iter_mut().find(|d| d.id == deployment.id) {
            Some(existing) => {
                *existing = deployment;
                true
            }
            None => {
                self.deployments.push(deployment);
                false
            }
        }
    }

    /// Remove the deployment `id`. Returns it if it was there.
    pub fn remove(&mut self, id: &str) -> Option<Deployment> {
        let pos = self.deployments.iter().position(|d| d.id == id)?;
        Some(self.deployments.remove(pos))
    }

    /// The environments named by deployments, sorted.
    pub fn environments(&self) -> Vec<&str> {
        let mut envs: Vec<&str> = self
            .deployments
            .iter()
            .map(|d| d.environment.as_str())
            .collect();
        envs.sort();
        envs.dedup();
        envs
    }

    /// Pretty JSON with a trailing newline, as written to disk.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a registry always serialises");
        s.push('\n');
        s
    }

    /// Every resource of `environment`: the resources of all its deployments, where two
    /// deployments list the same ARN the one with the later `deployed_at` wins.
    pub fn environment_view(&self, environment: &str) -> EnvironmentView {
        let mut deployments: Vec<&Deployment> = self
            .deployments
            .iter()
            .filter(|d| d.environment == environment && d.monitored())
            .collect();
        // Stable sort: equal or missing times keep file order, so the later entry wins ties.
        deployments.sort_by_key(|d| d.deployed_at.as_deref().and_then(clock::parse_rfc3339));
        let mut by_arn: HashMap<&str, usize> = HashMap::new();
        let mut resources: Vec<Resource> = Vec::new();
        for d in &deployments {
            for entry in &d.resources {
                let resource = Resource::from_entry(d, entry);
                match by_arn.get(entry.arn.as_str()) {
                    Some(&i) => resources[i] = resource,
                    None => {
                        by_arn.insert(entry.arn.as_str(), resources.len());
                        resources.push(resource);
                    }
                }
            }
        }
        EnvironmentView {
            environment: environment.to_string(),
            deployments: deployments.into_iter().cloned().collect(),
            resources,
        }
    }
}

/// The id of a resource that has none: its `name`, `aws_name`, `aws_id` or
/// `terraform_name`, else the last part of its ARN, made safe for `--service`.
pub fn derive_id(r: &ResourceEntry) -> String {
    let field = |k: &str| {
        r.extra
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string)
    };
    let from_arn = || {
        r.arn
            .rsplit([':', '/'])
            .find(|p| !p.is_empty())
            .map(str::to_string)
    };
    let raw = r
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| field("aws_name"))
        .or_else(|| field("aws_id"))
        .or_else(|| field("terraform_name"))
        .or_else(from_arn)
        .unwrap_or_else(|| "resource".to_string());
    let safe: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if safe.is_empty() {
        "resource".into()
    } else {
        safe
    }
}

/// Give each resource of `d` its id: the given one, else [`derive_id`]. Two resources with
/// the same name in one deployment are kept apart by kind, then by a number, in file order,
/// so ids stay stable.
fn fill_ids(d: &mut Deployment) {
    let mut taken: HashSet<String> = d
        .resources
        .iter()
        .filter_map(|r| r.given_id.clone())
        .collect();
    for r in &mut d.resources {
        r.id = match &r.given_id {
            Some(id) => id.clone(),
            None => {
                let base = derive_id(r);
                let mut id = base.clone();
                if taken.contains(&id) {
                    id = format!("{base}-{}", r.kind.trim().trim_start_matches("aws_"));
                }
                let mut n = 2;
                while taken.contains(&id) {
                    id = format!("{base}-{n}");
                    n += 1;
                }
                id
            }
        };
        taken.insert(r.id.clone());
    }
}

/// faber-cloud's per-environment registry (`{version, environment, project, last_updated,
/// resources: [{type, terraform_name, aws_name, arn, console_url, created}]}`) as one
/// deployment, `faber-cloud-<env>`, deployed at its `last_updated`.
pub fn faber_environment_registry(path: &Path, text: &str, dir_env: &str) -> Result<Deployment> {
    let value: Value = parse_json(path, text)?;
    let v = value.get("version").and_then(Value::as_str);
    version::check(path, None, v)?;
    let obj = value.as_object().cloned().unwrap_or_default();
    let environment = obj
        .get("environment")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        .unwrap_or(dir_env)
        .to_string();
    let resources: Vec<ResourceEntry> = match obj.get("resources") {
        Some(r) => serde_path_to_error::deserialize(r.clone()).map_err(|e| {
            Error::invalid(
                path,
                None,
                Some(format!("resources{}", e.path())),
                e.inner().to_string(),
            )
        })?,
        None => Vec::new(),
    };
    let mut d = Deployment {
        id: format!("faber-cloud-{environment}"),
        environment,
        project: obj
            .get("project")
            .and_then(Value::as_str)
            .map(str::to_string),
        region: None,
        deployed_at: obj
            .get("last_updated")
            .and_then(Value::as_str)
            .filter(|t| clock::parse_rfc3339(t).is_some())
            .map(str::to_string),
        deployed_by: Some("faber-cloud".into()),
        version: None,
        resources,
        extra: Map::new(),
    };
    fill_ids(&mut d);
    validate_deployment(path, text, "registry", &d)?;
    Ok(d)
}

impl Deployment {
    /// Whether helm-cloud should check it: `monitoring.enabled: false` turns it off, and a
    /// deployment that names another `helm_plugin` is that plugin's to check.
    pub fn monitored(&self) -> bool {
        let enabled = self
            .extra
            .get("monitoring")
            .and_then(|m| m.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let ours = self
            .extra
            .get("helm_plugin")
            .and_then(Value::as_str)
            .is_none_or(|p| p.is_empty() || p == "fractary-helm-cloud" || p == "helm-cloud");
        enabled && ours
    }
}

fn validate_deployment(path: &Path, text: &str, at: &str, d: &Deployment) -> Result<()> {
    if d.environment.trim().is_empty() {
        return Err(Error::invalid(
            path,
            None,
            Some(format!("{at}.environment")),
            "the environment must not be empty",
        ));
    }
    if let Some(t) = &d.deployed_at
        && clock::parse_rfc3339(t).is_none()
    {
        return Err(Error::invalid(
            path,
            Some(find_line(text, t)),
            Some(format!("{at}.deployed_at")),
            format!("{t:?} is not an RFC 3339 timestamp (2025-11-04T09:12:00Z)"),
        ));
    }
    let mut ids = HashSet::new();
    for (j, r) in d.resources.iter().enumerate() {
        let rat = format!("{at}.resources[{j}]");
        if r.id.trim().is_empty() {
            return Err(Error::invalid(
                path,
                None,
                Some(format!("{rat}.id")),
                "a resource id must not be empty",
            ));
        }
        if !ids.insert(r.id.as_str()) {
            return Err(Error::invalid(
                path,
                Some(find_line(text, &format!("\"{}\"", r.id))),
                Some(format!("{rat}.id")),
                format!(
                    "resource id {:?} appears twice in deployment {:?}",
                    r.id, d.id
                ),
            ));
        }
        for (key, value) in r.slo.iter().flatten() {
            let field = Some(format!("{rat}.slo.{key}"));
            if !SLO_KEYS.contains(&key.as_str()) {
                let err = Error::invalid(
                    path,
                    Some(find_line(text, &format!("\"{key}\""))),
                    field,
                    format!("unknown SLO key `{key}`"),
                );
                return Err(match suggest::nearest(key, SLO_KEYS.iter().copied()) {
                    Some(near) => err.with_hint(format!("did you mean `{near}`?")),
                    None => err.with_hint(format!("valid: {}", SLO_KEYS.join(", "))),
                });
            }
            if !value.is_number() {
                return Err(Error::invalid(
                    path,
                    Some(find_line(text, &format!("\"{key}\""))),
                    field,
                    format!("`{key}` must be a number"),
                ));
            }
        }
        if let Some(kind) = ResourceKind::resolve(&r.kind, &r.arn)
            && let Err(e) = Arn::parse(kind, &r.arn)
        {
            return Err(Error::invalid(
                path,
                Some(find_line(text, &r.arn)),
                Some(format!("{rat}.arn")),
                e.to_string(),
            ));
        }
    }
    Ok(())
}

/// Parse and validate one deployment document (`registry add --file`): a deployment
/// object, or an array of them.
pub fn parse_deployments(path: &Path, text: &str) -> Result<Vec<Deployment>> {
    let value: Value = parse_json(path, text)?;
    let mut list: Vec<Deployment> = match value {
        Value::Array(_) => from_value(path, text, value)?,
        Value::Object(ref o) if o.contains_key("deployments") && !o.contains_key("resources") => {
            let registry: Registry = from_value(path, text, value)?;
            registry.deployments
        }
        // faber-cloud's per-environment registry.json: resources, no deployment id.
        Value::Object(ref o)
            if o.contains_key("resources")
                && !o.contains_key("id")
                && o.contains_key("environment") =>
        {
            vec![faber_environment_registry(path, text, "")?]
        }
        _ => vec![from_value(path, text, value)?],
    };
    list.iter_mut().for_each(fill_ids);
    if list.is_empty() {
        return Err(Error::invalid(
            path,
            None,
            None,
            "no deployment in the file",
        ));
    }
    let mut ids = HashSet::new();
    for (i, d) in list.iter().enumerate() {
        if d.id.trim().is_empty() {
            return Err(Error::invalid(
                path,
                None,
                Some(format!("[{i}].id")),
                "a deployment id must not be empty",
            ));
        }
        if !ids.insert(d.id.clone()) {
            return Err(Error::invalid(
                path,
                None,
                Some(format!("[{i}].id")),
                format!("deployment id {:?} appears twice", d.id),
            ));
        }
        validate_deployment(path, text, &format!("[{i}]"), d)?;
    }
    Ok(list)
}

/// Read-modify-write the registry at `path` under its lock. `change` gets the current
/// registry; the file is rewritten only if `change` returns Ok. An invalid file is never
/// touched.
pub fn update<T>(
    path: &Path,
    clock: &dyn Clock,
    change: impl FnOnce(&mut Registry) -> Result<T>,
) -> Result<T> {
    let _lock = FileLock::acquire(path)?;
    let now = clock::rfc3339(clock.now());
    let mut registry = match fsutil::read_optional(path)? {
        Some(text) => Registry::parse(path, &text)?,
        None => Registry::empty(&now),
    };
    let out = change(&mut registry)?;
    registry.version = Some(version::CURRENT.into());
    registry.created_at.get_or_insert_with(|| now.clone());
    registry.updated_at = Some(now);
    fsutil::write_atomic(path, registry.to_json().as_bytes())?;
    Ok(out)
}

/// All resources of one environment, after the later-wins rule.
#[derive(Debug, Clone)]
pub struct EnvironmentView {
    pub environment: String,
    /// The environment's deployments, oldest first.
    pub deployments: Vec<Deployment>,
    pub resources: Vec<Resource>,
}

impl EnvironmentView {
    /// One resource id must name one resource: an id that two deployments give to two
    /// different ARNs would make every command act on whichever came last. A 65 naming both.
    pub fn check_ids(&self, registry: &Path) -> Result<()> {
        let mut seen: HashMap<&str, &Resource> = HashMap::new();
        for r in &self.resources {
            if let Some(first) = seen.insert(r.id.as_str(), r) {
                return Err(Error::invalid(
                    registry,
                    None,
                    Some(format!("resources[].id {:?}", r.id)),
                    format!(
                        "environment {} has two resources called {:?}: {} in deployment {} and {} in deployment {}",
                        self.environment, r.id, first.arn, first.deployment_id, r.arn, r.deployment_id
                    ),
                )
                .with_hint("give one of them another id (ids are unique within an environment)"));
            }
        }
        Ok(())
    }

    /// The resource with this id (exact), if any.
    pub fn get(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.id == id)
    }
}

/// A resource ready to be operated on: its kind resolved, its ARN parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    pub id: String,
    /// `None` for a type helm-cloud does not support ("unsupported type": reported, never fatal).
    pub kind: Option<ResourceKind>,
    /// The type as written in the registry.
    pub type_name: String,
    pub arn: String,
    pub parsed_arn: Option<Arn>,
    /// The name used in API calls: `name`, else from the ARN.
    pub name: String,
    /// `region`, else the ARN's, else the deployment's (None: use the configured default).
    pub region: Option<String>,
    pub log_group: Option<String>,
    pub stage: Option<String>,
    pub tags: Option<Value>,
    pub slo: BTreeMap<String, f64>,
    pub deployment_id: String,
    pub project: Option<String>,
    pub deployed_at: Option<String>,
    pub version: Option<String>,
    /// An ECS service's load-balancer target group and its load balancer (the entry's
    /// `target_group_arn` and `load_balancer_arn`): where its request metrics are.
    pub target_group_arn: Option<String>,
    pub load_balancer_arn: Option<String>,
}

impl Resource {
    /// The account of the resource's ARN (None: an ARN without one, such as an S3 bucket's).
    pub fn account(&self) -> Option<&str> {
        self.parsed_arn
            .as_ref()
            .and_then(|a| a.account.as_deref())
            .filter(|a| !a.is_empty())
    }

    fn from_entry(d: &Deployment, e: &ResourceEntry) -> Resource {
        let kind = ResourceKind::resolve(&e.kind, &e.arn);
        let parsed_arn = kind.and_then(|k| Arn::parse(k, &e.arn).ok());
        let name = e
            .name
            .clone()
            .or_else(|| parsed_arn.as_ref().map(|a| a.target.name().to_string()))
            .unwrap_or_else(|| e.id.clone());
        let region = e
            .region
            .clone()
            .or_else(|| parsed_arn.as_ref().and_then(|a| a.region.clone()))
            .or_else(|| d.region.clone());
        Resource {
            id: e.id.clone(),
            kind,
            type_name: e.kind.clone(),
            arn: e.arn.clone(),
            parsed_arn,
            name,
            region,
            log_group: e.log_group.clone(),
            stage: e.stage.clone(),
            tags: e.tags.clone(),
            slo: e
                .slo
                .iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect(),
            deployment_id: d.id.clone(),
            project: d.project.clone(),
            deployed_at: d.deployed_at.clone(),
            version: d.version.clone(),
            target_group_arn: extra_str(e, "target_group_arn"),
            load_balancer_arn: extra_str(e, "load_balancer_arn"),
        }
    }
}

fn extra_str(e: &ResourceEntry, key: &str) -> Option<String> {
    e.extra
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Parse JSON text, turning a syntax error into an invalid-file error with its line.
pub fn parse_json(path: &Path, text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        let what = if e.is_eof() {
            "the JSON ends early (truncated?)"
        } else {
            "invalid JSON"
        };
        Error::invalid(path, Some(e.line()), None, format!("{what}: {e}")).with_hint(
            "fix the file by hand or restore it from version control; it was not changed",
        )
    })
}

/// Deserialise a JSON value into `T`, naming the field that failed.
pub fn from_value<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    value: Value,
) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let leaf = field.rsplit('.').next().unwrap_or("").to_string();
        let line =
            (!leaf.is_empty() && leaf != "?").then(|| find_line(text, &format!("\"{leaf}\"")));
        Error::invalid(path, line, Some(field), e.into_inner().to_string())
    })
}

/// The line where `needle` first appears (1 if nowhere): a pointer for error messages
/// after the JSON parser, which does not keep positions, has finished.
pub fn find_line(text: &str, needle: &str) -> usize {
    text.find(needle).map(|off| line_of(text, off)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    const SAMPLE: &str = r#"{
  "version": "1.0.0",
  "created_at": "2025-11-03T20:00:00Z",
  "updated_at": "2025-11-04T09:12:00Z",
  "x-owner": {"team": "platform"},
  "deployments": [
    {
      "id": "acme-api-test",
      "environment": "test",
      "project": "acme-api",
      "region": "us-east-1",
      "deployed_at": "2025-11-04T09:12:00Z",
      "deployed_by": "faber-cloud",
      "version": "1.4.2",
      "pipeline": {"run": 42},
      "resources": [
        { "id": "api-lambda", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:acme-api-test", "cost_center": "cc-7" },
        { "id": "orders-db",  "type": "AWS::RDS::DBInstance", "arn": "arn:aws:rds:us-east-1:123456789012:db:acme-orders-test" },
        { "id": "web",        "type": "ECS", "arn": "arn:aws:ecs:us-east-1:123456789012:service/acme-test/web" },
        { "id": "assets",     "type": "s3", "arn": "arn:aws:s3:::acme-assets-test" },
        { "id": "cdn",        "type": "cloudfront", "arn": "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE" },
        { "id": "gateway",    "type": "apigateway", "arn": "arn:aws:apigateway:us-east-1::/restapis/a1b2c3", "name": "acme-api", "stage": "test" },
        { "id": "sessions",   "type": "dynamodb", "arn": "arn:aws:dynamodb:us-east-1:123456789012:table/acme-sessions-test" },
        { "id": "jobs",       "type": "sqs", "arn": "arn:aws:sqs:us-east-1:123456789012:acme-jobs-test", "slo": {"p95_latency_ms": 900} },
        { "id": "stream",     "type": "AWS::EC2::Instance", "arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-0s" }
      ]
    }
  ]
}"#;

    fn p() -> &'static Path {
        Path::new("deployments.json")
    }

    #[test]
    fn unknown_fields_survive_a_rewrite_at_every_level() {
        let r = Registry::parse(p(), SAMPLE).unwrap();
        let again: Value = serde_json::from_str(&r.to_json()).unwrap();
        let original: Value = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(again, original);
    }

    #[test]
    fn faber_cloud_shapes_get_kinds_and_stable_unique_ids() {
        let text = r#"{"version": "1.0", "environment": "test", "project": "p", "last_updated": "2026-11-30T09:00:00Z",
            "resources": [
              {"type": "aws_lambda_function", "terraform_name": "api", "aws_name": "p-test-api", "arn": "arn:aws:lambda:us-east-1:1:function:p-test-api"},
              {"type": "s3_bucket", "terraform_name": "api", "arn": "arn:aws:s3:::p-test-uploads"},
              {"type": "aws_sqs_queue", "aws_name": "p-test-api", "arn": "arn:aws:sqs:us-east-1:1:other"}
            ]}"#;
        let d = faber_environment_registry(Path::new("r.json"), text, "test").unwrap();
        assert_eq!(d.id, "faber-cloud-test");
        assert_eq!(d.deployed_at.as_deref(), Some("2026-11-30T09:00:00Z"));
        let ids: Vec<&str> = d.resources.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["p-test-api", "api", "p-test-api-sqs_queue"]);
        assert!(
            d.resources.iter().all(|r| r.given_id.is_none()),
            "no id is invented in the file"
        );
        assert_eq!(
            ResourceKind::parse("aws_lambda_function"),
            Some(ResourceKind::Lambda)
        );
        assert_eq!(ResourceKind::parse("s3_bucket"), Some(ResourceKind::S3));
        assert_eq!(
            ResourceKind::parse("aws_apigatewayv2_api"),
            Some(ResourceKind::ApiGateway)
        );
        assert_eq!(ResourceKind::parse("aws_iam_role"), None);
        // A derived id is stable: the same file gives the same ids.
        let again = faber_environment_registry(Path::new("r.json"), text, "test").unwrap();
        assert_eq!(again.resources, d.resources);
    }

    #[test]
    fn monitoring_off_and_other_helm_plugins_are_not_ours() {
        let text = r#"{"deployments": [
            {"id": "a", "environment": "test", "resources": [{"type": "lambda", "name": "f", "arn": "arn:aws:lambda:us-east-1:1:function:f"}], "monitoring": {"enabled": false}},
            {"id": "b", "environment": "test", "helm_plugin": "fractary-helm-app", "resources": [{"type": "lambda", "name": "g", "arn": "arn:aws:lambda:us-east-1:1:function:g"}]},
            {"id": "c", "environment": "test", "helm_plugin": "fractary-helm-cloud", "resources": [{"type": "lambda", "name": "h", "arn": "arn:aws:lambda:us-east-1:1:function:h"}]}
        ]}"#;
        let r = Registry::parse(Path::new("d.json"), text).unwrap();
        let ids: Vec<String> = r
            .environment_view("test")
            .resources
            .iter()
            .map(|x| x.id.clone())
            .collect();
        assert_eq!(ids, ["h"]);
        // Written back without invented ids, with every field.
        let out = r.to_json();
        assert!(!out.contains("\"id\": \"h\""), "{out}");
        assert!(out.contains("fractary-helm-app"));
    }

    #[test]
    fn environment_view_resolves_kinds_names_and_keeps_unsupported_types() {
        let r = Registry::parse(p(), SAMPLE).unwrap();
        let v = r.environment_view("test");
        assert_eq!(v.resources.len(), 9);
        assert_eq!(v.get("orders-db").unwrap().kind, Some(ResourceKind::Rds));
        assert_eq!(v.get("web").unwrap().kind, Some(ResourceKind::Ecs));
        assert_eq!(
            v.get("gateway").unwrap().name,
            "acme-api",
            "an explicit name beats the ARN"
        );
        assert_eq!(v.get("api-lambda").unwrap().name, "acme-api-test");
        assert_eq!(
            v.get("cdn").unwrap().region,
            Some("us-east-1".into()),
            "global ARN falls back to the deployment region"
        );
        assert_eq!(
            v.get("jobs").unwrap().slo.get("p95_latency_ms"),
            Some(&900.0)
        );
        let stream = v.get("stream").unwrap();
        assert_eq!(stream.kind, None);
        assert_eq!(stream.type_name, "AWS::EC2::Instance");
        assert!(r.environment_view("prod").resources.is_empty());
    }

    fn deployment(id: &str, env: &str, at: Option<&str>, resources: &[(&str, &str)]) -> Deployment {
        Deployment {
            id: id.into(),
            environment: env.into(),
            project: None,
            region: None,
            deployed_at: at.map(str::to_string),
            deployed_by: None,
            version: Some(id.into()),
            resources: resources
                .iter()
                .map(|(rid, fun)| ResourceEntry {
                    given_id: Some(rid.to_string()),
                    id: rid.to_string(),
                    kind: "lambda".into(),
                    arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{fun}"),
                    name: None,
                    region: None,
                    log_group: None,
                    stage: None,
                    tags: None,
                    slo: None,
                    extra: Map::new(),
                })
                .collect(),
            extra: Map::new(),
        }
    }

    #[test]
    fn later_deployed_at_wins_per_arn_whatever_the_file_order() {
        let mut r = Registry::empty("2025-01-01T00:00:00Z");
        r.upsert(deployment(
            "new",
            "test",
            Some("2025-11-05T00:00:00Z"),
            &[("api", "f"), ("b", "g")],
        ));
        r.upsert(deployment(
            "old",
            "test",
            Some("2025-11-01T00:00:00Z"),
            &[("api-old", "f"), ("c", "h")],
        ));
        r.upsert(deployment(
            "other-env",
            "prod",
            Some("2025-12-01T00:00:00Z"),
            &[("api", "f")],
        ));
        let v = r.environment_view("test");
        let f = v.resources.iter().find(|x| x.name == "f").unwrap();
        assert_eq!((f.id.as_str(), f.deployment_id.as_str()), ("api", "new"));
        assert_eq!(v.resources.len(), 3);
        assert_eq!(
            v.deployments
                .iter()
                .map(|d| d.id.as_str())
                .collect::<Vec<_>>(),
            vec!["old", "new"]
        );
    }

    #[test]
    fn upsert_replaces_by_id_and_remove_removes() {
        let mut r = Registry::empty("2025-01-01T00:00:00Z");
        assert!(!r.upsert(deployment("a", "test", None, &[("x", "f")])));
        assert!(r.upsert(deployment("a", "test", None, &[("x", "f"), ("y", "g")])));
        assert_eq!(r.deployments.len(), 1);
        assert_eq!(r.deployments[0].resources.len(), 2);
        assert!(r.remove("a").is_some());
        assert!(r.remove("a").is_none());
    }

    fn invalid(text: &str) -> (Option<usize>, Option<String>, String) {
        match Registry::parse(p(), text).unwrap_err() {
            Error::InvalidFile {
                line,
                field,
                message,
                ..
            } => (line, field, message),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn truncated_and_invalid_registries_are_refused_with_file_line_and_field() {
        let (line, _, msg) = invalid(&SAMPLE[..SAMPLE.len() / 2]);
        assert!(line.is_some() && msg.contains("truncated"), "{msg}");
        let (_, field, _) = invalid(r#"{"deployments": [{"id": "a", "environment": "test"}]}"#);
        assert_eq!(
            field.as_deref(),
            Some("deployments[0]"),
            "missing resources"
        );
        let (line, field, msg) = invalid(
            "{\"deployments\": [\n {\"id\": \"a\", \"environment\": \"test\", \"resources\": [\n  {\"id\": \"f\", \"type\": \"lambda\", \"arn\": \"arn:aws:s3:::b\"}]}]}",
        );
        assert_eq!(
            (line, field.as_deref()),
            (Some(3), Some("deployments[0].resources[0].arn"))
        );
        assert!(msg.contains("not a lambda ARN"), "{msg}");
        let (_, _, msg) = invalid(
            r#"{"deployments": [{"id": "a", "environment": "t", "resources": []}, {"id": "a", "environment": "t", "resources": []}]}"#,
        );
        assert!(msg.contains("appears twice"), "{msg}");
        let (_, field, _) = invalid(
            r#"{"deployments": [{"id": "a", "environment": "t", "deployed_at": "noon", "resources": []}]}"#,
        );
        assert_eq!(field.as_deref(), Some("deployments[0].deployed_at"));
        let (_, field, msg) = invalid(
            r#"{"deployments": [{"id": "a", "environment": "t", "resources": [{"id": "q", "type": "sqs", "arn": "arn:aws:sqs:us-east-1:1:q", "slo": {"p95_latncy_ms": 3}}]}]}"#,
        );
        assert_eq!(
            field.as_deref(),
            Some("deployments[0].resources[0].slo.p95_latncy_ms"),
            "{msg}"
        );
        let (_, _, msg) = invalid(r#"{"version": "3.0.0", "deployments": []}"#);
        assert!(msg.contains("newer"), "{msg}");
    }

    #[test]
    fn update_never_touches_an_invalid_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployments.json");
        let corrupt = &SAMPLE[..300];
        std::fs::write(&path, corrupt).unwrap();
        let clock = FixedClock(crate::clock::parse_rfc3339("2026-01-01T00:00:00Z").unwrap());
        let err = update(&path, &clock, |r| {
            r.upsert(deployment("a", "test", None, &[]));
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, Error::InvalidFile { .. }));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), corrupt);
    }

    #[test]
    fn update_creates_the_file_and_stamps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry/deployments.json");
        let clock = FixedClock(crate::clock::parse_rfc3339("2026-01-01T00:00:00Z").unwrap());
        update(&path, &clock, |r| {
            r.upsert(deployment("a", "test", None, &[("x", "f")]));
            Ok(())
        })
        .unwrap();
        let r = Registry::load(&path).unwrap();
        assert_eq!(r.created_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(r.version.as_deref(), Some("1.0.0"));
        assert_eq!(r.deployments.len(), 1);
    }

    #[test]
    fn an_older_version_is_read_and_upgraded_only_when_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployments.json");
        let old = r#"{"version": "0.9.0", "deployments": []}"#;
        std::fs::write(&path, old).unwrap();
        assert_eq!(
            Registry::load(&path).unwrap().version.as_deref(),
            Some("0.9.0")
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            old,
            "reading never rewrites"
        );
    }

    #[test]
    fn parse_deployments_takes_an_object_an_array_or_a_registry() {
        let one = r#"{"id": "a", "environment": "test", "resources": []}"#;
        assert_eq!(parse_deployments(p(), one).unwrap().len(), 1);
        let many = format!("[{one}, {}]", one.replace("\"a\"", "\"b\""));
        assert_eq!(parse_deployments(p(), &many).unwrap().len(), 2);
        assert_eq!(parse_deployments(p(), SAMPLE).unwrap().len(), 1);
        assert!(parse_deployments(p(), "[]").is_err());
        assert!(parse_deployments(p(), &format!("[{one}, {one}]")).is_err());
    }
}
