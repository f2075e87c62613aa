//! `helm-cloud registry list|add|remove`

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::table;
use helm_core::import;
use helm_core::registry::{self, Registry, Resource};
use serde_json::{Value, json};
use std::io::Read;
use std::path::Path;

fn resource_json(r: &Resource) -> Value {
    json!({
        "id": r.id,
        "type": r.kind.map(|k| k.as_str().to_string()).unwrap_or_else(|| r.type_name.clone()),
        "supported": r.kind.is_some(),
        "name": r.name,
        "arn": r.arn,
        "region": r.region,
        "deployment": r.deployment_id,
        "deployed_at": r.deployed_at,
        "version": r.version,
    })
}

pub fn list(ctx: &Ctx, env: Option<&str>) -> CliResult {
    let config = ctx.config()?;
    if let Some(e) = env {
        ctx.check_env(&config, e)?;
    }
    let reg = Registry::load_project(&ctx.paths)?;
    let envs: Vec<String> = match env {
        Some(e) => vec![e.to_string()],
        None => reg.environments().into_iter().map(str::to_string).collect(),
    };
    let views: Vec<_> = envs.iter().map(|e| reg.environment_view(e)).collect();
    for v in &views {
        for r in v.resources.iter().filter(|r| r.kind.is_none()) {
            ctx.out.warn(&format!(
                "{}/{}: unsupported type {:?}: listed, never checked",
                v.environment, r.id, r.type_name
            ));
        }
    }
    let json = json!({
        "environment": env,
        "registry": ctx.show_path(&ctx.paths.registry()),
        "deployments": views.iter().flat_map(|v| v.deployments.iter()).collect::<Vec<_>>(),
        "resources": views.iter().flat_map(|v| v.resources.iter().map(|r| {
            let mut j = resource_json(r);
            j["environment"] = json!(v.environment);
            j
        })).collect::<Vec<_>>(),
    });
    ctx.out.result(&json, || {
        let rows: Vec<Vec<String>> = views
            .iter()
            .flat_map(|v| {
                v.resources.iter().map(|r| {
                    vec![
                        v.environment.clone(),
                        r.id.clone(),
                        r.kind
                            .map(|k| k.to_string())
                            .unwrap_or_else(|| format!("{} (unsupported)", r.type_name)),
                        r.name.clone(),
                        r.region.clone().unwrap_or_else(|| "-".into()),
                        r.deployment_id.clone(),
                        r.deployed_at.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
            })
            .collect();
        if rows.is_empty() {
            return match env {
                Some(e) => format!(
                    "No resources in environment {e}. faber-cloud records deployments in {}.",
                    ctx.show_path(&ctx.paths.registry())
                ),
                None => format!(
                    "The registry is empty ({}).",
                    ctx.show_path(&ctx.paths.registry())
                ),
            };
        }
        let deployments: usize = views.iter().map(|v| v.deployments.len()).sum();
        format!(
            "{}\n\n{} resources in {} deployments",
            table::render(
                &[
                    "ENV",
                    "RESOURCE",
                    "TYPE",
                    "NAME",
                    "REGION",
                    "DEPLOYMENT",
                    "DEPLOYED AT"
                ],
                &rows
            ),
            rows.len(),
            deployments
        )
    });
    Ok(0)
}

pub fn add(ctx: &Ctx, file: &Path) -> CliResult {
    let config = ctx.config()?;
    let (label, text) = if file == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::new(65, format!("reading the deployment from stdin: {e}")))?;
        (Path::new("<stdin>").to_path_buf(), s)
    } else {
        let text = std::fs::read_to_string(file).map_err(|e| {
            CliError::usage(format!("cannot read {}: {e}", file.display()))
                .hint("pass --file DEPLOYMENT.json, or - for stdin")
        })?;
        (file.to_path_buf(), text)
    };
    let deployments = registry::parse_deployments(&label, &text)?;
    for d in &deployments {
        if config.environments.get(&d.environment).is_err() {
            ctx.out.warn(&format!(
                "deployment {} is in environment {:?}, which {} does not define",
                d.id, d.environment, config.environments.source
            ));
        }
    }
    let path = ctx.paths.registry();
    let outcome = registry::update(&path, ctx.clock.as_ref(), |reg| {
        Ok(deployments
            .iter()
            .map(|d| (d.id.clone(), d.resources.len(), reg.upsert(d.clone())))
            .collect::<Vec<_>>())
    })?;
    let json = json!({
        "registry": ctx.show_path(&path),
        "added": outcome.iter().filter(|o| !o.2).map(|o| &o.0).collect::<Vec<_>>(),
        "updated": outcome.iter().filter(|o| o.2).map(|o| &o.0).collect::<Vec<_>>(),
    });
    ctx.out.result(&json, || {
        outcome
            .iter()
            .map(|(id, n, replaced)| {
                format!(
                    "{} deployment {id} ({n} resources) in {}",
                    if *replaced { "updated" } else { "added" },
                    ctx.show_path(&path)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(0)
}

pub fn remove(ctx: &Ctx, id: &str) -> CliResult {
    ctx.config()?;
    let path = ctx.paths.registry();
    // Check first without the lock, so a missing id never rewrites the file.
    let current = Registry::load(&path)?;
    if !current.deployments.iter().any(|d| d.id == id) {
        let ids: Vec<&str> = current.deployments.iter().map(|d| d.id.as_str()).collect();
        let mut err = CliError::usage(format!("no deployment {id:?} in {}", ctx.show_path(&path)));
        err = match helm_core::suggest::nearest(id, ids.iter().copied()) {
            Some(near) => err.hint(format!(
                "did you mean {near:?}? `helm-cloud registry list` shows them all"
            )),
            None => err.hint("`helm-cloud registry list` shows the deployments"),
        };
        return Err(err);
    }
    let removed = registry::update(&path, ctx.clock.as_ref(), |reg| Ok(reg.remove(id)))?;
    let Some(d) = removed else {
        return Err(CliError::usage(format!(
            "deployment {id:?} was removed by another writer meanwhile"
        )));
    };
    let json =
        json!({"registry": ctx.show_path(&path), "removed": d.id, "resources": d.resources.len()});
    ctx.out.result(&json, || {
        format!(
            "removed deployment {} ({} resources)",
            d.id,
            d.resources.len()
        )
    });
    Ok(0)
}

/// Where `registry import` reads deployments from (exactly one is given).
pub struct ImportFrom {
    pub terraform_state: Option<std::path::PathBuf>,
    pub cloudformation: Vec<String>,
    pub all_stacks: bool,
    pub tag: Option<String>,
    pub workspace: String,
}

/// `registry import`: the deployments of a Terraform state, CloudFormation stacks or a
/// tag, upserted by id through the registry's locked, atomic path, or shown as a diff with
/// `--dry-run`. A second import of the same source changes nothing (and writes nothing).
pub async fn import(
    ctx: &Ctx,
    from: ImportFrom,
    env: &str,
    deployment_id: Option<String>,
    dry_run: bool,
) -> CliResult {
    let config = ctx.config()?;
    ctx.check_env(&config, env)?;
    if let Some(id) = &deployment_id
        && (id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(CliError::usage(format!("{id:?} is not a deployment id"))
            .hint("letters, digits, '-', '_' and '.'"));
    }
    let now = helm_core::clock::rfc3339(ctx.clock.now());
    let mut imported: Vec<import::Imported> = if let Some(file) = &from.terraform_state {
        let id = deployment_id
            .clone()
            .unwrap_or_else(|| format!("terraform-{}", from.workspace));
        let (label, text) = read_input(file, "--terraform-state FILE")?;
        let mut one = import::terraform(
            &label,
            &text,
            &import::Source {
                environment: env,
                deployment_id: &id,
                now: &now,
            },
        )?;
        // Where the state is, so that `registry drift` can read it again.
        if file != Path::new("-") {
            let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
            let root = std::fs::canonicalize(&ctx.paths.root).unwrap_or_default();
            let shown = path
                .strip_prefix(&root)
                .map(Path::to_path_buf)
                .unwrap_or(path);
            one.deployment.extra["source"]["terraform"]["path"] =
                json!(shown.display().to_string());
        }
        vec![one]
    } else {
        let settings = ctx.client_settings(&config, env)?;
        let region = settings.region.clone();
        let clients = ctx.aws(&config, env).await?;
        if let Some(tag) = &from.tag {
            let Some((k, v)) = tag.split_once('=').filter(|(k, _)| !k.is_empty()) else {
                return Err(CliError::usage(format!(
                    "--tag {tag:?}: expected KEY=VALUE"
                )));
            };
            let _progress = ctx
                .out
                .progress(format!("resources tagged {tag} in {region}"));
            vec![import::from_tag(&clients, &[region], k, v, env, &now).await?]
        } else {
            let names = (!from.all_stacks).then_some(from.cloudformation.as_slice());
            let _progress = ctx
                .out
                .progress(format!("CloudFormation stacks in {region}"));
            import::from_stacks(&clients, &region, names, env, &now).await?
        }
    };
    if let Some(id) = &deployment_id {
        if imported.len() > 1 {
            return Err(CliError::usage(format!(
                "--deployment {id}: {} deployments would share one id",
                imported.len()
            ))
            .hint("import one stack at a time to name it, or let each take its stack's name"));
        }
        for i in imported.iter_mut() {
            i.deployment.id = id.clone();
        }
    }
    for i in &imported {
        for u in &i.unsupported {
            ctx.out.warn(&format!(
                "{} ({}): not imported: {}",
                u.address, u.kind, u.reason
            ));
        }
    }
    let path = ctx.paths.registry();
    let current = Registry::load(&path)?;
    let mut rows = Vec::new();
    let mut diffs = Vec::new();
    let mut to_write = Vec::new();
    for i in &imported {
        let old = current
            .deployments
            .iter()
            .find(|d| d.id == i.deployment.id)
            .cloned();
        let change = import::change(old.as_ref(), &i.deployment);
        let diff = change.diff(&i.deployment, old.as_ref());
        if !diff.is_empty() {
            diffs.push(format!("{}:\n{diff}", i.deployment.id));
        }
        let write = !dry_run && (old.is_none() || !change.is_empty());
        if write {
            to_write.push(i.deployment.clone());
        }
        rows.push((i, old.is_some(), change, write));
    }
    if !to_write.is_empty() {
        // Under the lock, against the registry as it is then; what the source does not say
        // (the deployment's other fields) is kept.
        registry::update(&path, ctx.clock.as_ref(), |reg| {
            for mut new in to_write {
                if let Some(o) = reg.deployments.iter().find(|d| d.id == new.id) {
                    for (k, v) in &o.extra {
                        new.extra.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                reg.upsert(new);
            }
            Ok(())
        })?;
    }
    let sum = |f: &dyn Fn(&import::Change) -> Vec<String>| -> Vec<String> {
        rows.iter().flat_map(|(_, _, c, _)| f(c)).collect()
    };
    let json = json!({
        "registry": ctx.show_path(&path),
        "environment": env,
        "dry_run": dry_run,
        "written": rows.iter().any(|r| r.3),
        "added": sum(&|c| c.added.clone()),
        "changed": sum(&|c| c.changed.clone()),
        "removed": sum(&|c| c.removed.clone()),
        "unchanged": rows.iter().map(|r| r.2.unchanged).sum::<usize>(),
        "unsupported": imported.iter().flat_map(|i| i.unsupported.iter()).collect::<Vec<_>>(),
        "data_sources": imported.iter().map(|i| i.data_sources).sum::<usize>(),
        "deployment": imported.first().map(|i| i.deployment.id.clone()),
        "deployments": rows.iter().map(|(i, existed, c, w)| json!({
            "id": i.deployment.id, "existed": existed, "written": w, "added": c.added,
            "changed": c.changed, "removed": c.removed, "unchanged": c.unchanged,
            "unsupported": i.unsupported.len()})).collect::<Vec<_>>(),
    });
    ctx.out.result(&json, || {
        let mut lines: Vec<String> = rows
            .iter()
            .map(|(i, existed, c, _)| {
                if c.is_empty() && *existed {
                    format!(
                        "deployment {} is up to date ({} resources); nothing written",
                        i.deployment.id, c.unchanged
                    )
                } else {
                    format!(
                        "{} deployment {} in {}: {} added, {} changed, {} removed, {} unchanged",
                        if dry_run {
                            "would write"
                        } else if *existed {
                            "updated"
                        } else {
                            "added"
                        },
                        i.deployment.id,
                        ctx.show_path(&path),
                        c.added.len(),
                        c.changed.len(),
                        c.removed.len(),
                        c.unchanged
                    )
                }
            })
            .collect();
        if imported.is_empty() {
            lines.push("no stacks to import".into());
        }
        lines.extend(diffs.iter().cloned());
        let n: usize = imported.iter().map(|i| i.unsupported.len()).sum();
        if n > 0 {
            lines.push(format!("{n} resources not imported (listed above)"));
        }
        lines.join("\n")
    });
    Ok(0)
}

/// `registry drift [--env E]`: exit 0 none, 1 drift, 3 nothing drifted but something could
/// not be checked (never "no drift" on what was not read).
pub async fn drift(ctx: &Ctx, env: &str) -> CliResult {
    let config = ctx.config()?;
    let view = super::targets::environment(ctx, &config, env)?;
    let (targets, _) = super::targets::targets(ctx, &config, &view, None)?;
    let (start, end) = super::targets::window(ctx, "--timeframe", "1h")?;
    let opts = helm_core::monitor::check::HealthOptions::health(env, start, end, &[]);
    let clients = ctx.fan_out(&config, env).await?;
    let root = ctx.paths.root.clone();
    let read_state = |p: &str| {
        let path = root.join(p);
        std::fs::read_to_string(&path).ok().map(|t| (path, t))
    };
    let _progress = ctx.out.progress(format!("drift of {env}"));
    let d = import::drift(&clients, &view, &targets, &opts, &read_state).await;
    let code = if d.drifted() {
        1
    } else if !d.not_checked.is_empty() {
        3
    } else {
        0
    };
    let mut doc = serde_json::to_value(&d).expect("JSON");
    doc["exit_code"] = json!(code);
    ctx.out.result(&doc, || {
        let mut s = match code {
            0 => format!(
                "no drift in {env}: {} registered resources exist, and every imported source holds nothing unregistered",
                d.checked
            ),
            1 => format!(
                "drift in {env}: {} registered resources gone, {} resources not registered",
                d.gone.len(),
                d.unregistered.len()
            ),
            _ => format!("no drift found in {env}, but not everything could be checked"),
        };
        for g in &d.gone {
            s.push_str(&format!(
                "\n  gone          {} {}",
                g["id"].as_str().or(g["stack"].as_str()).unwrap_or_default(),
                g["arn"].as_str().or(g["reason"].as_str()).unwrap_or_default()
            ));
        }
        for u in &d.unregistered {
            s.push_str(&format!(
                "\n  unregistered  {} ({}) {}  [{}]",
                u["id"].as_str().unwrap_or_default(),
                u["type"].as_str().unwrap_or_default(),
                u["arn"].as_str().unwrap_or_default(),
                u["source"].as_str().unwrap_or_default()
            ));
        }
        for n in &d.not_checked {
            s.push_str(&format!("\n  not checked   {n}"));
        }
        s
    });
    Ok(code)
}

/// A file's text, or stdin's for `-`; `what` names the flag in errors.
fn read_input(file: &Path, what: &str) -> CliResult<(std::path::PathBuf, String)> {
    if file == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::new(65, format!("reading stdin: {e}")))?;
        return Ok((Path::new("<stdin>").to_path_buf(), s));
    }
    let text = std::fs::read_to_string(file).map_err(|e| {
        CliError::usage(format!("cannot read {}: {e}", file.display()))
            .hint(format!("pass {what}, or - for stdin"))
    })?;
    Ok((file.to_path_buf(), text))
}
