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

/// `registry import --terraform-state FILE|- --env E`: the state's deployment, upserted by
/// id through the registry's locked, atomic path, or shown as a diff with `--dry-run`. A
/// second import of the same state changes nothing (and writes nothing).
pub fn import(
    ctx: &Ctx,
    file: &Path,
    env: &str,
    deployment_id: String,
    dry_run: bool,
) -> CliResult {
    let config = ctx.config()?;
    ctx.check_env(&config, env)?;
    if deployment_id.is_empty()
        || !deployment_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(
            CliError::usage(format!("{deployment_id:?} is not a deployment id"))
                .hint("letters, digits, '-', '_' and '.' (--deployment ID or --workspace W)"),
        );
    }
    let (label, text) = read_input(file, "--terraform-state FILE")?;
    let now = helm_core::clock::rfc3339(ctx.clock.now());
    let imported = import::terraform(
        &label,
        &text,
        &import::Source {
            environment: env,
            deployment_id: &deployment_id,
            now: &now,
        },
    )?;
    for u in &imported.unsupported {
        ctx.out.warn(&format!(
            "{} ({}): not imported: {}",
            u.address, u.kind, u.reason
        ));
    }
    let path = ctx.paths.registry();
    let mut new = imported.deployment;
    let current = Registry::load(&path)?;
    let old = current.deployments.iter().find(|d| d.id == new.id).cloned();
    let mut change = import::change(old.as_ref(), &new);
    let diff = change.diff(&new, old.as_ref());
    let write = !dry_run && (old.is_none() || !change.is_empty());
    if write {
        // Under the lock, against the registry as it is then (another writer may have come).
        change = registry::update(&path, ctx.clock.as_ref(), |reg| {
            let old = reg.deployments.iter().find(|d| d.id == new.id);
            let c = import::change(old, &new);
            if let Some(o) = old {
                // What the state does not say is kept: the first deployment time, extra fields.
                if c.is_empty() {
                    return Ok(c);
                }
                for (k, v) in &o.extra {
                    new.extra.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            reg.upsert(new.clone());
            Ok(c)
        })?;
    }
    let json = json!({
        "registry": ctx.show_path(&path),
        "deployment": new.id,
        "environment": env,
        "dry_run": dry_run,
        "written": write,
        "added": change.added,
        "changed": change.changed,
        "removed": change.removed,
        "unchanged": change.unchanged,
        "unsupported": imported.unsupported,
        "data_sources": imported.data_sources,
    });
    ctx.out.result(&json, || {
        let head = if change.is_empty() && old.is_some() {
            format!(
                "deployment {} is up to date ({} resources); nothing written",
                new.id, change.unchanged
            )
        } else {
            format!(
                "{} deployment {} in {}: {} added, {} changed, {} removed, {} unchanged",
                if dry_run {
                    "would write"
                } else if old.is_some() {
                    "updated"
                } else {
                    "added"
                },
                new.id,
                ctx.show_path(&path),
                change.added.len(),
                change.changed.len(),
                change.removed.len(),
                change.unchanged
            )
        };
        let unsupported = match imported.unsupported.len() {
            0 => String::new(),
            n => format!("\n{n} resources not imported (listed above)"),
        };
        if diff.is_empty() {
            format!("{head}{unsupported}")
        } else {
            format!("{head}\n{diff}{unsupported}")
        }
    });
    Ok(0)
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
