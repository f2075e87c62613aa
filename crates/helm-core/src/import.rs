//! `registry import --terraform-state`: deployments from what already describes an estate.
//! A Terraform state (format version 4, as `terraform.tfstate` holds it) or the document of
//! `terraform show -json` becomes one deployment: each managed resource of a kind helm-cloud
//! operates becomes a registry entry, and every other managed resource is listed as
//! unsupported, never dropped silently. The change is then written through the registry's
//! locked, atomic path (upsert by deployment id), or shown as a diff.

use crate::error::{Error, Result};
use crate::registry::{Deployment, ResourceEntry};
use crate::resource::{Arn, ResourceKind};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// A managed resource the import could not make an entry of, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unsupported {
    /// The Terraform address (`module.app.aws_iam_role.exec`).
    pub address: String,
    pub kind: String,
    pub reason: String,
}

/// What a Terraform state gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub deployment: Deployment,
    pub unsupported: Vec<Unsupported>,
    /// Data sources read by the configuration (not deployed resources: not imported).
    pub data_sources: usize,
}

/// Where a deployment comes from and what it is called.
pub struct Source<'a> {
    pub environment: &'a str,
    pub deployment_id: &'a str,
    /// `deployed_at` of a new deployment.
    pub now: &'a str,
}

/// One resource instance of the state: its address, type and attributes.
struct Instance<'a> {
    address: String,
    kind: &'a str,
    attrs: &'a Map<String, Value>,
}

fn bad(label: &Path, why: impl Into<String>) -> Error {
    Error::invalid(label, None, None, why).with_hint(
        "pass a state file (terraform.tfstate, format version 4) or the output of `terraform show -json`",
    )
}

/// Parse `text` (a v4 state or `terraform show -json`) into the deployment of `source`.
pub fn terraform(label: &Path, text: &str, source: &Source<'_>) -> Result<Imported> {
    let doc: Value = crate::registry::parse_json(label, text)?;
    let Some(top) = doc.as_object() else {
        return Err(bad(label, "not a JSON object"));
    };
    let mut instances = Vec::new();
    let mut data_sources = 0;
    let (serial, lineage);
    if let Some(values) = top
        .get("values")
        .filter(|_| top.contains_key("format_version"))
    {
        // `terraform show -json`: values.root_module.{resources, child_modules[…]}.
        fn walk<'a>(
            module: &'a Value,
            out: &mut Vec<Instance<'a>>,
            data: &mut usize,
            label: &Path,
        ) -> Result<()> {
            for r in module["resources"].as_array().into_iter().flatten() {
                let (Some(address), Some(kind)) = (r["address"].as_str(), r["type"].as_str())
                else {
                    return Err(bad(label, "a resource without address or type"));
                };
                if r["mode"] == "data" {
                    *data += 1;
                    continue;
                }
                let Some(attrs) = r["values"].as_object() else {
                    return Err(bad(label, format!("{address}: no values")));
                };
                out.push(Instance {
                    address: address.to_string(),
                    kind,
                    attrs,
                });
            }
            for m in module["child_modules"].as_array().into_iter().flatten() {
                walk(m, out, data, label)?;
            }
            Ok(())
        }
        if let Some(root) = values.get("root_module") {
            walk(root, &mut instances, &mut data_sources, label)?;
        }
        serial = None;
        lineage = None;
    } else if top.contains_key("resources") || top.contains_key("version") {
        match top.get("version").and_then(Value::as_u64) {
            Some(4) => {}
            Some(v) => {
                return Err(bad(
                    label,
                    format!(
                        "state format version {v}: only version 4 (Terraform 0.12 and later) is read"
                    ),
                ));
            }
            None => return Err(bad(label, "no state format \"version\"")),
        }
        for r in top
            .get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(kind), Some(name)) = (r["type"].as_str(), r["name"].as_str()) else {
                return Err(bad(label, "a resource without type or name"));
            };
            if r["mode"] == "data" {
                data_sources += 1;
                continue;
            }
            let module = r["module"]
                .as_str()
                .map(|m| format!("{m}."))
                .unwrap_or_default();
            for i in r["instances"].as_array().into_iter().flatten() {
                let key = match &i["index_key"] {
                    Value::Null => String::new(),
                    Value::String(s) => format!("[{s:?}]"),
                    other => format!("[{other}]"),
                };
                let Some(attrs) = i["attributes"].as_object() else {
                    return Err(bad(
                        label,
                        format!("{module}{kind}.{name}{key}: no attributes"),
                    ));
                };
                instances.push(Instance {
                    address: format!("{module}{kind}.{name}{key}"),
                    kind,
                    attrs,
                });
            }
        }
        serial = top.get("serial").and_then(Value::as_u64);
        lineage = top
            .get("lineage")
            .and_then(Value::as_str)
            .map(str::to_string);
    } else {
        return Err(bad(
            label,
            "neither a Terraform state nor `terraform show -json` output",
        ));
    }

    // REST API stages, by API id: each stage of an API is the resource helm-cloud watches.
    let mut stages: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for i in instances
        .iter()
        .filter(|i| i.kind == "aws_api_gateway_stage")
    {
        if let (Some(api), Some(stage)) = (
            i.attrs.get("rest_api_id").and_then(Value::as_str),
            i.attrs.get("stage_name").and_then(Value::as_str),
        ) {
            stages.entry(api).or_default().push(stage);
        }
    }
    // Target groups, by ARN: the load balancer each forwards from (an Application one
    // first), so a group's and an ECS service's request metrics (published per target group
    // and balancer) can be read.
    let mut target_groups: BTreeMap<&str, &str> = BTreeMap::new();
    for i in instances
        .iter()
        .filter(|i| matches!(i.kind, "aws_lb_target_group" | "aws_alb_target_group"))
    {
        let lb = i.attrs.get("load_balancer_arns").and_then(Value::as_array);
        if let (Some(tg), Some(lb)) = (
            i.attrs.get("arn").and_then(Value::as_str),
            lb.into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|a| a.contains(":loadbalancer/"))
                .min_by_key(|a| !a.contains(":loadbalancer/app/")),
        ) {
            target_groups.insert(tg, lb);
        }
    }
    let mut resources = Vec::new();
    let mut unsupported = Vec::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for i in &instances {
        if i.kind == "aws_api_gateway_stage" {
            continue; // part of its API's entry
        }
        let Some(kind) = ResourceKind::ALL
            .into_iter()
            .find(|k| k.terraform_types().contains(&i.kind))
        else {
            unsupported.push(Unsupported {
                address: i.address.clone(),
                kind: i.kind.to_string(),
                reason: "no helm-cloud kind for this type".into(),
            });
            continue;
        };
        // `aws_lb` is every kind of balancer: its load_balancer_type says which.
        let kind = match (
            kind,
            i.attrs.get("load_balancer_type").and_then(Value::as_str),
        ) {
            (ResourceKind::Alb, Some("network")) => ResourceKind::Nlb,
            (ResourceKind::Alb, Some("gateway")) => {
                unsupported.push(Unsupported {
                    address: i.address.clone(),
                    kind: i.kind.to_string(),
                    reason: "a Gateway Load Balancer is not a helm-cloud kind".into(),
                });
                continue;
            }
            (k, _) => k,
        };
        match entries(kind, i, &stages, &target_groups) {
            Ok(list) => {
                for mut e in list {
                    let id = e.id.clone();
                    let n = ids.entry(id.clone()).or_default();
                    *n += 1;
                    if *n > 1 {
                        e.id = format!("{id}-{n}");
                    }
                    e.given_id = Some(e.id.clone());
                    resources.push(e);
                }
            }
            Err(reason) => unsupported.push(Unsupported {
                address: i.address.clone(),
                kind: i.kind.to_string(),
                reason,
            }),
        }
    }
    let mut extra = Map::new();
    extra.insert(
        "source".into(),
        json!({"terraform": {"serial": serial, "lineage": lineage}}),
    );
    Ok(Imported {
        deployment: Deployment {
            id: source.deployment_id.to_string(),
            environment: source.environment.to_string(),
            project: None,
            region: None,
            deployed_at: Some(source.now.to_string()),
            deployed_by: Some("helm-cloud registry import".into()),
            version: None,
            resources,
            extra,
        },
        unsupported,
        data_sources,
    })
}

/// The registry entries of one instance of `kind` (an API has one per stage).
fn entries(
    kind: ResourceKind,
    i: &Instance<'_>,
    stages: &BTreeMap<&str, Vec<&str>>,
    target_groups: &BTreeMap<&str, &str>,
) -> std::result::Result<Vec<ResourceEntry>, String> {
    let s = |k: &str| {
        i.attrs
            .get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let need = |k: &str| s(k).ok_or_else(|| format!("no {k:?} attribute"));
    let (arn, name) = match kind {
        ResourceKind::Lambda => (need("arn")?.to_string(), need("function_name")?),
        ResourceKind::Ecs => {
            // The provider's id is the service ARN; older states hold the cluster and name.
            let name = need("name")?;
            let arn = match s("id").filter(|v| v.starts_with("arn:")) {
                Some(a) => a.to_string(),
                None => {
                    let cluster = need("cluster")?;
                    let (head, c) = cluster
                        .split_once(":cluster/")
                        .ok_or_else(|| "the cluster is not a cluster ARN".to_string())?;
                    format!("{head}:service/{c}/{name}")
                }
            };
            (arn, name)
        }
        ResourceKind::Rds => (need("arn")?.to_string(), need("identifier")?),
        ResourceKind::S3 => {
            let bucket = need("bucket")?;
            (
                s("arn")
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("arn:aws:s3:::{bucket}")),
                bucket,
            )
        }
        ResourceKind::CloudFront => (need("arn")?.to_string(), need("id")?),
        ResourceKind::ApiGateway => (need("arn")?.to_string(), s("name").unwrap_or(need("id")?)),
        ResourceKind::DynamoDb
        | ResourceKind::Sqs
        | ResourceKind::StepFunctions
        | ResourceKind::EventBridge
        | ResourceKind::Alb
        | ResourceKind::Sns
        | ResourceKind::Nlb
        | ResourceKind::TargetGroup
        | ResourceKind::Kinesis
        | ResourceKind::Asg => (need("arn")?.to_string(), need("name")?),
        ResourceKind::ElastiCache => (need("arn")?.to_string(), need("cluster_id")?),
    };
    let parsed = Arn::parse(kind, &arn).map_err(|e| e.to_string())?;
    let region = parsed
        .region
        .clone()
        .or_else(|| s("region").map(str::to_string));
    let mut base = ResourceEntry {
        given_id: None,
        id: id_of(&i.address),
        kind: kind.as_str().to_string(),
        arn,
        name: Some(name.to_string()),
        region,
        log_group: None,
        stage: None,
        tags: i
            .attrs
            .get("tags")
            .filter(|t| t.as_object().is_some_and(|m| !m.is_empty()))
            .cloned(),
        slo: None,
        extra: Map::from_iter([("terraform_address".to_string(), json!(i.address))]),
    };
    // An ECS service behind an Application Load Balancer: its target group and balancer,
    // where its request metrics are.
    if kind == ResourceKind::Ecs
        && let Some((tg, lb)) = i
            .attrs
            .get("load_balancer")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|b| b.get("target_group_arn").and_then(Value::as_str))
            .find_map(|tg| target_groups.get(tg).map(|lb| (tg, *lb)))
    {
        base.extra.insert("target_group_arn".into(), json!(tg));
        base.extra.insert("load_balancer_arn".into(), json!(lb));
    }
    // A target group's metrics are published with its balancer's.
    if kind == ResourceKind::TargetGroup
        && let Some(lb) = target_groups.get(base.arn.as_str())
    {
        base.extra.insert("load_balancer_arn".into(), json!(lb));
    }
    if kind == ResourceKind::ApiGateway
        && let Some(list) = s("id").and_then(|id| stages.get(id))
    {
        return Ok(list
            .iter()
            .map(|stage| {
                let mut e = base.clone();
                e.id = if list.len() == 1 {
                    base.id.clone()
                } else {
                    format!("{}-{stage}", base.id)
                };
                e.stage = Some(stage.to_string());
                e
            })
            .collect());
    }
    Ok(vec![base])
}

/// One resource of a CloudFormation stack, as `ListStackResources` gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct StackResource {
    pub logical_id: String,
    /// `AWS::SQS::Queue`…
    pub resource_type: String,
    /// The name, id, URL or ARN CloudFormation gives the resource.
    pub physical_id: String,
    /// Entry fields the adapter read beyond the stack: an ECS service's or a target group's
    /// `target_group_arn` / `load_balancer_arn`, where their request metrics are.
    pub fields: BTreeMap<String, String>,
}

/// A stack: its name, ARN (which gives the region and account) and resources.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub name: String,
    pub arn: String,
    pub resources: Vec<StackResource>,
}

/// A stack's deployment (named after the stack): each resource of a supported type becomes
/// an entry whose ARN is built from its physical id and the stack's region and account;
/// every other resource is listed as unsupported.
pub fn cloudformation(stack: &Stack, environment: &str, now: &str) -> Imported {
    let parts: Vec<&str> = stack.arn.splitn(6, ':').collect();
    let (region, account) = match parts.as_slice() {
        [_, _, _, r, a, _] => (r.to_string(), a.to_string()),
        _ => (String::new(), String::new()),
    };
    let stages: Vec<&str> = stack
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::ApiGateway::Stage")
        .map(|r| r.physical_id.as_str())
        .collect();
    let mut resources = Vec::new();
    let mut unsupported = Vec::new();
    for r in &stack.resources {
        if r.resource_type == "AWS::ApiGateway::Stage" {
            continue; // part of its API's entry
        }
        let Some(kind) = ResourceKind::ALL
            .into_iter()
            .find(|k| k.cloudformation_type() == r.resource_type)
            .and_then(|k| ResourceKind::resolve(k.as_str(), &r.physical_id))
        else {
            unsupported.push(Unsupported {
                address: r.logical_id.clone(),
                kind: r.resource_type.clone(),
                reason: "no helm-cloud kind for this type".into(),
            });
            continue;
        };
        let p = r.physical_id.as_str();
        let named_by_arn = Arn::parse(kind, p)
            .ok()
            .map(|a| a.target.name().to_string());
        let (arn, name) = match kind {
            _ if p.starts_with("arn:") => (
                p.to_string(),
                named_by_arn
                    .as_deref()
                    .unwrap_or_else(|| p.rsplit(['/', ':']).next().unwrap_or(p)),
            ),
            ResourceKind::Lambda => (format!("arn:aws:lambda:{region}:{account}:function:{p}"), p),
            ResourceKind::Ecs => (format!("arn:aws:ecs:{region}:{account}:service/{p}"), p),
            ResourceKind::Rds => (format!("arn:aws:rds:{region}:{account}:db:{p}"), p),
            ResourceKind::S3 => (format!("arn:aws:s3:::{p}"), p),
            ResourceKind::CloudFront => {
                (format!("arn:aws:cloudfront::{account}:distribution/{p}"), p)
            }
            ResourceKind::ApiGateway => (format!("arn:aws:apigateway:{region}::/restapis/{p}"), p),
            ResourceKind::DynamoDb => (format!("arn:aws:dynamodb:{region}:{account}:table/{p}"), p),
            // The physical id of a queue is its URL.
            ResourceKind::Sqs => {
                let name = p.trim_end_matches('/').rsplit('/').next().unwrap_or(p);
                (format!("arn:aws:sqs:{region}:{account}:{name}"), name)
            }
            ResourceKind::StepFunctions => (
                format!("arn:aws:states:{region}:{account}:stateMachine:{p}"),
                p,
            ),
            // A rule of a custom bus: `BUS|NAME`.
            ResourceKind::EventBridge => match p.split_once('|') {
                Some((bus, name)) => (
                    format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}"),
                    name,
                ),
                None => (format!("arn:aws:events:{region}:{account}:rule/{p}"), p),
            },
            // CloudFormation names these by their ARN (handled above).
            ResourceKind::Alb
            | ResourceKind::Sns
            | ResourceKind::Nlb
            | ResourceKind::TargetGroup => (p.to_string(), p),
            ResourceKind::Kinesis => (format!("arn:aws:kinesis:{region}:{account}:stream/{p}"), p),
            ResourceKind::ElastiCache => (
                format!("arn:aws:elasticache:{region}:{account}:cluster:{p}"),
                p,
            ),
            // A group's ARN holds an id the stack does not give: the adapter reads it
            // (DescribeAutoScalingGroups) and gives the ARN as the physical id (above);
            // a name left means it could not, and the parse below lists it.
            ResourceKind::Asg => (p.to_string(), p),
        };
        if let Err(e) = Arn::parse(kind, &arn) {
            unsupported.push(Unsupported {
                address: r.logical_id.clone(),
                kind: r.resource_type.clone(),
                reason: e.to_string(),
            });
            continue;
        }
        let mut e = ResourceEntry {
            given_id: Some(r.logical_id.clone()),
            id: r.logical_id.clone(),
            kind: kind.as_str().to_string(),
            arn,
            name: Some(name.to_string()),
            region: (kind != ResourceKind::CloudFront).then(|| region.clone()),
            log_group: None,
            stage: None,
            tags: None,
            slo: None,
            extra: Map::from_iter([("logical_id".to_string(), json!(r.logical_id))]),
        };
        for (k, v) in &r.fields {
            e.extra.insert(k.clone(), json!(v));
        }
        if kind == ResourceKind::ApiGateway && !stages.is_empty() {
            for stage in &stages {
                let mut s = e.clone();
                if stages.len() > 1 {
                    s.id = format!("{}-{stage}", e.id);
                    s.given_id = Some(s.id.clone());
                }
                s.stage = Some(stage.to_string());
                resources.push(s);
            }
            continue;
        }
        e.given_id = Some(e.id.clone());
        resources.push(e);
    }
    let mut extra = Map::new();
    extra.insert(
        "source".into(),
        json!({"cloudformation": {"stack": stack.name, "stack_arn": stack.arn, "region": region}}),
    );
    Imported {
        deployment: Deployment {
            id: stack.name.clone(),
            environment: environment.to_string(),
            project: None,
            region: Some(region.clone()).filter(|r| !r.is_empty()),
            deployed_at: Some(now.to_string()),
            deployed_by: Some("helm-cloud registry import".into()),
            version: None,
            resources,
            extra,
        },
        unsupported,
        data_sources: 0,
    }
}

/// The deployment of the resources tagged `key=value` (the Resource Groups Tagging API's
/// ARNs, with their tags), named `tag-<key>-<value>`: each ARN of a supported kind becomes
/// an entry named after its resource, every other one is listed as unsupported.
pub fn tagged(
    arns: &[(String, Value)],
    balancers: &BTreeMap<String, String>,
    key: &str,
    value: &str,
    regions: &[String],
    environment: &str,
    now: &str,
) -> Imported {
    let mut resources: Vec<ResourceEntry> = Vec::new();
    let mut unsupported = Vec::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for (arn, tags) in arns {
        let Some((kind, parsed)) = ResourceKind::ALL
            .into_iter()
            .find_map(|k| Arn::parse(k, arn).ok().map(|a| (k, a)))
        else {
            unsupported.push(Unsupported {
                address: arn.clone(),
                kind: arn.split(':').nth(2).unwrap_or_default().to_string(),
                reason: "no helm-cloud kind for this ARN".into(),
            });
            continue;
        };
        let name = parsed.target.name().to_string();
        let mut id = id_of(&format!("x.{name}"));
        let n = ids.entry(id.clone()).or_default();
        *n += 1;
        if *n > 1 {
            id = format!("{id}-{}", kind.as_str());
        }
        resources.push(ResourceEntry {
            given_id: Some(id.clone()),
            id,
            kind: kind.as_str().to_string(),
            arn: arn.clone(),
            name: Some(name),
            region: parsed.region.clone(),
            log_group: None,
            stage: None,
            tags: Some(tags.clone()).filter(|t| t.as_object().is_some_and(|m| !m.is_empty())),
            slo: None,
            // A target group's metrics are published with its balancer's.
            extra: balancers
                .get(arn)
                .filter(|_| kind == ResourceKind::TargetGroup)
                .map(|lb| Map::from_iter([("load_balancer_arn".to_string(), json!(lb))]))
                .unwrap_or_default(),
        });
    }
    let mut extra = Map::new();
    extra.insert(
        "source".into(),
        json!({"tag": {"key": key, "value": value, "regions": regions}}),
    );
    Imported {
        deployment: Deployment {
            id: format!("tag-{}", id_of(&format!("x.{key}-{value}"))),
            environment: environment.to_string(),
            project: None,
            region: None,
            deployed_at: Some(now.to_string()),
            deployed_by: Some("helm-cloud registry import".into()),
            version: None,
            resources,
            extra,
        },
        unsupported,
        data_sources: 0,
    }
}

/// `registry import --cloudformation NAME… | --all-stacks`: each stack's deployment.
/// A stack that does not exist is a usage error naming it; nothing is imported then.
pub async fn from_stacks<E: crate::ports::Estate>(
    estate: &E,
    region: &str,
    names: Option<&[String]>,
    environment: &str,
    now: &str,
) -> std::result::Result<Vec<Imported>, crate::CaseError> {
    let names: Vec<String> = match names {
        Some(n) => n.to_vec(),
        None => estate.stack_names(region).await?,
    };
    let mut out = Vec::new();
    for name in &names {
        match estate.stack(region, name).await? {
            Some(stack) => out.push(cloudformation(&stack, environment, now)),
            None => {
                return Err(Error::usage(
                    format!("no CloudFormation stack {name:?} in {region}"),
                    Some(
                        "`aws cloudformation list-stacks` shows them; --region picks the region"
                            .into(),
                    ),
                )
                .into());
            }
        }
    }
    Ok(out)
}

/// `registry import --tag KEY=VALUE`: the deployment of what carries the tag in `regions`.
pub async fn from_tag<E: crate::ports::Estate>(
    estate: &E,
    regions: &[String],
    key: &str,
    value: &str,
    environment: &str,
    now: &str,
) -> std::result::Result<Imported, crate::CaseError> {
    let mut arns = Vec::new();
    let mut balancers = BTreeMap::new();
    for r in regions {
        let found = estate.tagged(r, key, value).await?;
        let groups: Vec<String> = found
            .iter()
            .map(|(a, _)| a.clone())
            .filter(|a| Arn::parse(ResourceKind::TargetGroup, a).is_ok())
            .collect();
        if !groups.is_empty() {
            balancers.extend(estate.group_balancers(r, &groups).await?);
        }
        arns.extend(found);
    }
    arns.sort_by(|a, b| a.0.cmp(&b.0));
    arns.dedup_by(|a, b| a.0 == b.0);
    Ok(tagged(
        &arns,
        &balancers,
        key,
        value,
        regions,
        environment,
        now,
    ))
}

/// What `registry drift` found: registered resources AWS no longer holds, resources of the
/// same stacks, state files or tags that are not registered, and what it could not check.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Drift {
    pub environment: String,
    /// Registered resources checked for existence.
    pub checked: usize,
    pub gone: Vec<Value>,
    pub unregistered: Vec<Value>,
    /// One line each: a resource or a source that could not be read, and why.
    pub not_checked: Vec<String>,
}

impl Drift {
    pub fn drifted(&self) -> bool {
        !self.gone.is_empty() || !self.unregistered.is_empty()
    }
}

/// `registry drift`: each registered resource's existence (its status read), then each
/// imported deployment's source read again (its stack, state file or tag) for resources it
/// now holds that the registry does not. `state_file` resolves a recorded state path.
pub async fn drift<E: crate::ports::Estate + crate::ports::Observer>(
    world: &E,
    view: &crate::registry::EnvironmentView,
    targets: &[crate::monitor::check::Target],
    opts: &crate::monitor::check::HealthOptions,
    state_file: &dyn Fn(&str) -> Option<(std::path::PathBuf, String)>,
) -> Drift {
    use crate::monitor::StatusObs;
    let mut d = Drift {
        environment: view.environment.clone(),
        ..Drift::default()
    };
    let mut opts = opts.clone();
    opts.status = true;
    opts.metrics = false;
    opts.alarms = false;
    let observed = world.observe(targets, &opts).await;
    for (t, o) in targets.iter().zip(&observed) {
        let r = &t.resource;
        match &o.status {
            StatusObs::Missing => d.gone.push(json!({"id": r.id, "type": r.type_name,
                "arn": r.arn, "deployment": r.deployment_id})),
            StatusObs::Unreadable { reason, .. } => {
                d.not_checked.push(format!("{}: {reason}", r.id));
            }
            StatusObs::NotChecked => d
                .not_checked
                .push(format!("{}: its status cannot be read", r.id)),
            _ => d.checked += 1,
        }
    }
    let registered: std::collections::HashSet<&str> =
        view.resources.iter().map(|r| r.arn.as_str()).collect();
    for dep in &view.deployments {
        let source = &dep.extra.get("source").cloned().unwrap_or(Value::Null);
        let (label, found): (String, Vec<ResourceEntry>) =
            if let Some(cfn) = source.get("cloudformation") {
                let (Some(stack), Some(region)) = (cfn["stack"].as_str(), cfn["region"].as_str())
                else {
                    continue;
                };
                let label = format!("stack {stack}");
                match world.stack(region, stack).await {
                    Ok(Some(s)) => (
                        label,
                        cloudformation(&s, &view.environment, "")
                            .deployment
                            .resources,
                    ),
                    Ok(None) => {
                        d.gone.push(json!({"stack": stack, "deployment": dep.id,
                        "reason": "the stack no longer exists"}));
                        continue;
                    }
                    Err(f) => {
                        d.not_checked.push(format!("{label}: {}", f.brief));
                        continue;
                    }
                }
            } else if let Some(tag) = source.get("tag") {
                let (Some(k), Some(v)) = (tag["key"].as_str(), tag["value"].as_str()) else {
                    continue;
                };
                let regions: Vec<String> = tag["regions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect();
                let label = format!("tag {k}={v}");
                match from_tag(world, &regions, k, v, &view.environment, "").await {
                    Ok(i) => (label, i.deployment.resources),
                    Err(e) => {
                        d.not_checked.push(format!("{label}: {e}"));
                        continue;
                    }
                }
            } else if let Some(tf) = source.get("terraform") {
                let Some(path) = tf["path"].as_str() else {
                    d.not_checked.push(format!(
                        "deployment {}: imported from stdin, its state file is not known",
                        dep.id
                    ));
                    continue;
                };
                let label = format!("state {path}");
                let Some((file, text)) = state_file(path) else {
                    d.not_checked
                        .push(format!("{label}: the state file cannot be read"));
                    continue;
                };
                let src = Source {
                    environment: &view.environment,
                    deployment_id: &dep.id,
                    now: "",
                };
                match terraform(&file, &text, &src) {
                    Ok(i) => (label, i.deployment.resources),
                    Err(e) => {
                        d.not_checked.push(format!("{label}: {e}"));
                        continue;
                    }
                }
            } else {
                continue;
            };
        for e in found {
            if !registered.contains(e.arn.as_str()) {
                d.unregistered
                    .push(json!({"source": label, "deployment": dep.id,
                    "id": e.id, "type": e.kind, "arn": e.arn}));
            }
        }
    }
    d
}

/// A registry id from a Terraform address: the resource name, with its module path and
/// index (`module.app.aws_sqs_queue.jobs["a"]` → `app-jobs-a`).
fn id_of(address: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = address;
    while let Some(r) = rest.strip_prefix("module.") {
        let (m, tail) = r.split_once('.').unwrap_or((r, ""));
        parts.push(m.to_string());
        rest = tail;
    }
    // `TYPE.NAME[KEY]`
    let name = rest.split_once('.').map(|(_, n)| n).unwrap_or(rest);
    parts.push(name.to_string());
    let raw = parts.join("-");
    let mut id = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_matches('-').to_string()
}

/// How an imported deployment changes the registry's deployment of the same id.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Change {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    pub unchanged: usize,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// The change as a diff, one line a resource (`+`, `-`, `~`).
    pub fn diff(&self, new: &Deployment, old: Option<&Deployment>) -> String {
        let line =
            |sign: char, e: &ResourceEntry| format!("{sign} {} ({}) {}", e.id, e.kind, e.arn);
        let find = |d: Option<&Deployment>, id: &str| {
            d.and_then(|d| d.resources.iter().find(|e| e.id == id).cloned())
        };
        let mut out = Vec::new();
        for id in &self.added {
            out.extend(find(Some(new), id).map(|e| line('+', &e)));
        }
        for id in &self.changed {
            out.extend(find(Some(new), id).map(|e| line('~', &e)));
        }
        for id in &self.removed {
            out.extend(find(old, id).map(|e| line('-', &e)));
        }
        out.join("\n")
    }
}

/// What writing `new` over `old` (the registry's deployment of the same id) changes.
pub fn change(old: Option<&Deployment>, new: &Deployment) -> Change {
    let mut c = Change::default();
    let before: BTreeMap<&str, &ResourceEntry> = old
        .map(|d| d.resources.iter().map(|e| (e.id.as_str(), e)).collect())
        .unwrap_or_default();
    for e in &new.resources {
        match before.get(e.id.as_str()) {
            None => c.added.push(e.id.clone()),
            Some(b) if same(b, e) => c.unchanged += 1,
            Some(_) => c.changed.push(e.id.clone()),
        }
    }
    for id in before.keys() {
        if !new.resources.iter().any(|e| e.id == *id) {
            c.removed.push(id.to_string());
        }
    }
    if old.is_some_and(|o| o.environment != new.environment) {
        c.changed.push(format!("(environment {})", new.environment));
    }
    c
}

fn same(a: &ResourceEntry, b: &ResourceEntry) -> bool {
    a.kind == b.kind
        && a.arn == b.arn
        && a.name == b.name
        && a.region == b.region
        && a.stage == b.stage
        && a.tags == b.tags
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: Source<'static> = Source {
        environment: "prod",
        deployment_id: "terraform-default",
        now: "2026-12-03T00:00:00Z",
    };

    fn load(text: &str) -> Result<Imported> {
        terraform(Path::new("terraform.tfstate"), text, &SOURCE)
    }

    #[test]
    fn ids_come_from_the_address() {
        assert_eq!(id_of("aws_sqs_queue.jobs"), "jobs");
        assert_eq!(id_of("module.app.aws_sqs_queue.jobs[\"a\"]"), "app-jobs-a");
        assert_eq!(
            id_of("module.a.module.b.aws_lambda_function.f[0]"),
            "a-b-f-0"
        );
    }

    #[test]
    fn a_state_of_another_format_or_no_state_is_refused_saying_what_is_read() {
        for (text, says) in [
            (r#"{"version": 3, "modules": []}"#, "only version 4"),
            (r#"{"deployments": []}"#, "neither a Terraform state"),
            (r#"[1]"#, "not a JSON object"),
            (
                r#"{"version": 4, "resources": [{"mode": "managed"}]}"#,
                "without type or name",
            ),
        ] {
            let e = load(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn a_resource_missing_the_attribute_its_kind_needs_is_listed_unsupported_with_why() {
        let text = r#"{"version": 4, "serial": 1, "lineage": "x", "resources": [
          {"mode": "managed", "type": "aws_lambda_function", "name": "f",
           "instances": [{"attributes": {"function_name": "f"}}]},
          {"mode": "managed", "type": "aws_sqs_queue", "name": "q",
           "instances": [{"attributes": {"name": "q", "arn": "arn:aws:sns:us-east-1:1:q"}}]}]}"#;
        let got = load(text).unwrap();
        assert!(got.deployment.resources.is_empty());
        assert_eq!(got.unsupported.len(), 2);
        assert!(got.unsupported[0].reason.contains("\"arn\""));
        assert!(
            got.unsupported[1].reason.contains("not a sqs ARN"),
            "{:?}",
            got.unsupported
        );
    }

    #[test]
    fn terraform_show_json_is_read_through_its_child_modules_and_stages_join_their_api() {
        let text = r#"{"format_version": "1.0", "terraform_version": "1.9.8", "values": {
          "outputs": {}, "root_module": {"resources": [
            {"address": "aws_api_gateway_rest_api.public", "mode": "managed",
             "type": "aws_api_gateway_rest_api", "name": "public", "schema_version": 0,
             "values": {"arn": "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3", "id": "a1b2c3", "name": "public"}},
            {"address": "aws_api_gateway_stage.live", "mode": "managed",
             "type": "aws_api_gateway_stage", "name": "live", "schema_version": 0,
             "values": {"rest_api_id": "a1b2c3", "stage_name": "live",
                        "arn": "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3/stages/live"}},
            {"address": "data.aws_region.current", "mode": "data", "type": "aws_region",
             "name": "current", "values": {"name": "eu-west-1"}}],
           "child_modules": [{"address": "module.app", "resources": [
            {"address": "module.app.aws_ecs_service.web", "mode": "managed",
             "type": "aws_ecs_service", "name": "web",
             "values": {"id": "arn:aws:ecs:eu-west-1:123456789012:service/main/web", "name": "web",
                        "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/main"}},
            {"address": "module.app.aws_ecs_service.old", "mode": "managed",
             "type": "aws_ecs_service", "name": "old",
             "values": {"id": "old", "name": "old",
                        "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/main"}}]}]}}}"#;
        let got = load(text).unwrap();
        assert_eq!(got.data_sources, 1);
        assert!(got.unsupported.is_empty(), "{:?}", got.unsupported);
        let r = &got.deployment.resources;
        let ids: Vec<(&str, &str)> = r.iter().map(|e| (e.id.as_str(), e.kind.as_str())).collect();
        assert_eq!(
            ids,
            vec![
                ("public", "apigateway"),
                ("app-web", "ecs"),
                ("app-old", "ecs")
            ]
        );
        assert_eq!(r[0].stage.as_deref(), Some("live"));
        assert_eq!(r[0].region.as_deref(), Some("eu-west-1"));
        // An ECS service's ARN from its cluster when the state's id is not an ARN.
        assert_eq!(
            r[2].arn,
            "arn:aws:ecs:eu-west-1:123456789012:service/main/old"
        );
        assert_eq!(
            r[1].extra["terraform_address"],
            "module.app.aws_ecs_service.web"
        );
    }

    #[test]
    fn a_stacks_physical_ids_become_arns_in_its_region_and_account() {
        let r = |l: &str, t: &str, p: &str| StackResource {
            logical_id: l.into(),
            resource_type: t.into(),
            physical_id: p.into(),
            fields: BTreeMap::new(),
        };
        let stack = Stack {
            name: "shop".into(),
            arn: "arn:aws:cloudformation:eu-west-1:210987654321:stack/shop/abc".into(),
            resources: vec![
                r("Fn", "AWS::Lambda::Function", "shop-api"),
                r(
                    "Q",
                    "AWS::SQS::Queue",
                    "https://sqs.eu-west-1.amazonaws.com/210987654321/shop-q",
                ),
                r(
                    "Svc",
                    "AWS::ECS::Service",
                    "arn:aws:ecs:eu-west-1:210987654321:service/main/web",
                ),
                r("Api", "AWS::ApiGateway::RestApi", "a1b2c3"),
                r("Live", "AWS::ApiGateway::Stage", "live"),
                r("Db", "AWS::RDS::DBInstance", "shop-db"),
                r("Cdn", "AWS::CloudFront::Distribution", "E2ABC"),
                r("Role", "AWS::IAM::Role", "shop-role"),
            ],
        };
        let got = cloudformation(&stack, "prod", "now");
        let arns: Vec<(&str, &str)> = got
            .deployment
            .resources
            .iter()
            .map(|e| (e.id.as_str(), e.arn.as_str()))
            .collect();
        assert_eq!(
            arns,
            vec![
                (
                    "Fn",
                    "arn:aws:lambda:eu-west-1:210987654321:function:shop-api"
                ),
                ("Q", "arn:aws:sqs:eu-west-1:210987654321:shop-q"),
                ("Svc", "arn:aws:ecs:eu-west-1:210987654321:service/main/web"),
                ("Api", "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3"),
                ("Db", "arn:aws:rds:eu-west-1:210987654321:db:shop-db"),
                ("Cdn", "arn:aws:cloudfront::210987654321:distribution/E2ABC"),
            ]
        );
        assert_eq!(got.deployment.resources[3].stage.as_deref(), Some("live"));
        assert_eq!(got.deployment.resources[5].region, None);
        assert_eq!(got.deployment.id, "shop");
        assert_eq!(got.unsupported.len(), 1);
        assert_eq!(got.unsupported[0].kind, "AWS::IAM::Role");
    }

    #[test]
    fn tagged_arns_take_their_kind_from_the_arn_and_others_are_listed() {
        let arns = vec![
            (
                "arn:aws:sqs:us-east-1:1:jobs".to_string(),
                json!({"team": "pay"}),
            ),
            (
                "arn:aws:dynamodb:us-east-1:1:table/jobs".to_string(),
                json!({}),
            ),
            ("arn:aws:sns:us-east-1:1:topic".to_string(), json!({})),
            (
                "arn:aws:kinesis:us-east-1:1:stream/clicks".to_string(),
                json!({}),
            ),
            (
                "arn:aws:ec2:us-east-1:1:instance/i-0abc".to_string(),
                json!({}),
            ),
            (
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/73e2".to_string(),
                json!({}),
            ),
        ];
        let balancers = BTreeMap::from([(
            "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/73e2".to_string(),
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/front/50dc".to_string(),
        )]);
        let got = tagged(
            &arns,
            &balancers,
            "team",
            "pay",
            &["us-east-1".into()],
            "prod",
            "now",
        );
        assert_eq!(got.deployment.id, "tag-team-pay");
        let ids: Vec<&str> = got
            .deployment
            .resources
            .iter()
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(ids, vec!["jobs", "jobs-dynamodb", "topic", "clicks", "web"]);
        assert_eq!(
            got.deployment.resources[4].extra["load_balancer_arn"],
            "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/front/50dc"
        );
        assert_eq!(got.unsupported.len(), 1);
        assert_eq!(got.unsupported[0].kind, "ec2");
    }

    #[test]
    fn the_change_of_a_second_identical_import_is_empty() {
        let text = r#"{"version": 4, "resources": [
          {"mode": "managed", "type": "aws_sqs_queue", "name": "q",
           "instances": [{"attributes": {"name": "q", "arn": "arn:aws:sqs:us-east-1:123456789012:q"}}]}]}"#;
        let a = load(text).unwrap().deployment;
        let c = change(None, &a);
        assert_eq!(c.added, vec!["q"]);
        let b = load(text).unwrap().deployment;
        let c = change(Some(&a), &b);
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(c.unchanged, 1);
    }

    #[test]
    fn an_ecs_service_and_a_target_group_get_their_balancer_and_aws_lb_is_told_apart_by_its_type() {
        let lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/front/50dc6c495c0c9188";
        let tg =
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067";
        let text = format!(
            r#"{{"version": 4, "resources": [
          {{"mode": "managed", "type": "aws_lb", "name": "front",
           "instances": [{{"attributes": {{"name": "front", "arn": "{lb}", "load_balancer_type": "application"}}}}]}},
          {{"mode": "managed", "type": "aws_lb", "name": "tcp",
           "instances": [{{"attributes": {{"name": "tcp", "arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/tcp/1f2e3d4c5b6a7988", "load_balancer_type": "network"}}}}]}},
          {{"mode": "managed", "type": "aws_lb_target_group", "name": "web",
           "instances": [{{"attributes": {{"name": "web", "arn": "{tg}", "load_balancer_arns": ["{lb}"]}}}}]}},
          {{"mode": "managed", "type": "aws_lb", "name": "gw",
           "instances": [{{"attributes": {{"name": "gw", "arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/gwy/gw/1f2e3d4c5b6a7989", "load_balancer_type": "gateway"}}}}]}},
          {{"mode": "managed", "type": "aws_kinesis_stream", "name": "clicks",
           "instances": [{{"attributes": {{"name": "clicks", "arn": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks", "shard_count": 2}}}}]}},
          {{"mode": "managed", "type": "aws_elasticache_cluster", "name": "cache",
           "instances": [{{"attributes": {{"cluster_id": "sessions", "arn": "arn:aws:elasticache:us-east-1:123456789012:cluster:sessions", "engine": "redis"}}}}]}},
          {{"mode": "managed", "type": "aws_autoscaling_group", "name": "workers",
           "instances": [{{"attributes": {{"name": "workers", "arn": "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:6f1c2e4a-1111-2222-3333-444455556666:autoScalingGroupName/workers", "desired_capacity": 2}}}}]}},
          {{"mode": "managed", "type": "aws_sns_topic", "name": "alerts",
           "instances": [{{"attributes": {{"name": "alerts", "arn": "arn:aws:sns:us-east-1:123456789012:alerts"}}}}]}},
          {{"mode": "managed", "type": "aws_ecs_service", "name": "web",
           "instances": [{{"attributes": {{"name": "web", "id": "arn:aws:ecs:us-east-1:123456789012:service/main/web",
             "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/main",
             "load_balancer": [{{"container_name": "app", "container_port": 8080, "elb_name": "", "target_group_arn": "{tg}"}}]}}}}]}}]}}"#
        );
        let got = load(&text).unwrap();
        let e = |id: &str| {
            got.deployment
                .resources
                .iter()
                .find(|e| e.id == id)
                .unwrap_or_else(|| panic!("{id}: {:?}", got.deployment.resources))
        };
        assert_eq!(e("front").kind, "alb");
        assert_eq!(e("tcp").kind, "nlb");
        assert_eq!(e("alerts").kind, "sns");
        assert_eq!(e("clicks").kind, "kinesis");
        assert_eq!(e("cache").kind, "elasticache");
        assert_eq!(e("cache").name.as_deref(), Some("sessions"));
        assert_eq!(e("workers").kind, "asg");
        // The service and its target group (same Terraform name, so the second is -2).
        let svc = got
            .deployment
            .resources
            .iter()
            .find(|e| e.kind == "ecs")
            .unwrap();
        assert_eq!(svc.extra["target_group_arn"], tg);
        assert_eq!(svc.extra["load_balancer_arn"], lb);
        let group = got
            .deployment
            .resources
            .iter()
            .find(|e| e.kind == "targetgroup")
            .unwrap();
        assert_eq!(group.arn, tg);
        assert_eq!(group.extra["load_balancer_arn"], lb);
        let listed: Vec<(&str, &str)> = got
            .unsupported
            .iter()
            .map(|u| (u.address.as_str(), u.kind.as_str()))
            .collect();
        assert_eq!(listed, [("aws_lb.gw", "aws_lb")]);
        assert!(got.unsupported[0].reason.contains("Gateway"));
    }
}
