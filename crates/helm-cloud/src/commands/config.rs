//! `helm-cloud config show|validate`

use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_DATAERR};
use crate::table;
use helm_core::config::{self, Source};
use helm_core::registry::Registry;
use helm_core::{Error, fsutil, registry as reg, version};
use serde_json::{Value, json};

fn source_text(ctx: &Ctx, s: &Source) -> String {
    match s {
        Source::File { path, line } => {
            let p = ctx.show_path(path);
            line.map(|l| format!("{p}:{l}")).unwrap_or(p)
        }
        other => other.to_string(),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(unset)".into(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(value_text).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

pub fn show(ctx: &Ctx, env: &str) -> CliResult {
    let config = ctx.config()?;
    ctx.check_env(&config, env)?;
    let environment = config.environments.get(env)?;
    let env_source = if env == "test" {
        Source::Default
    } else {
        Source::Flag("--env")
    };
    let creds = config.credentials(&ctx.inputs, env);
    let region = config.region(&ctx.inputs, None);
    let endpoint = config.endpoint(&ctx.inputs);
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

    let files = [
        ("registry", ctx.paths.registry()),
        ("environments", ctx.paths.environments()),
        ("aws_credentials", ctx.paths.aws_credentials()),
        ("legacy_faber_config", ctx.paths.legacy_faber_config()),
        (
            "monitoring",
            config
                .monitoring
                .file
                .clone()
                .unwrap_or(ctx.paths.monitoring()),
        ),
        ("domain_monitors", ctx.paths.domain_monitors()),
    ];
    let json = json!({
        "root": ctx.paths.root,
        "environment": env,
        "files": files.iter().map(|(name, p)| (name.to_string(), json!({"path": ctx.show_path(p), "exists": p.exists()}))).collect::<serde_json::Map<_, _>>(),
        "settings": settings.iter().map(|(k, v, s)| (k.clone(), json!({"value": v, "source": source_text(ctx, s)}))).collect::<serde_json::Map<_, _>>(),
    });
    ctx.out.result(&json, || {
        let mut s = format!("Project root: {}\n\nFiles:\n", ctx.paths.root.display());
        for (name, p) in &files {
            let absent = if p.exists() { "" } else { " (absent)" };
            s.push_str(&format!("  {name:<20} {}{absent}\n", ctx.show_path(p)));
        }
        let rows: Vec<Vec<String>> = settings
            .iter()
            .map(|(k, v, src)| vec![k.clone(), value_text(v), source_text(ctx, src)])
            .collect();
        s.push_str("\nSettings:\n");
        s.push_str(&table::render(&["KEY", "VALUE", "SOURCE"], &rows));
        s
    });
    Ok(0)
}

/// The outcome of checking one file.
struct FileCheck {
    path: String,
    status: &'static str,
    detail: String,
    hint: Option<String>,
}

fn check<T>(
    ctx: &Ctx,
    path: &std::path::Path,
    result: Result<T, Error>,
    ok: impl FnOnce(T) -> String,
) -> FileCheck {
    let shown = ctx.show_path(path);
    match result {
        Ok(v) if path.exists() => FileCheck {
            path: shown,
            status: "ok",
            detail: ok(v),
            hint: None,
        },
        Ok(_) => FileCheck {
            path: shown,
            status: "absent",
            detail: "not present: defaults apply".into(),
            hint: None,
        },
        Err(e) => FileCheck {
            path: shown,
            status: "invalid",
            hint: e.hint().map(str::to_string),
            detail: e.to_string(),
        },
    }
}

pub async fn validate(ctx: &Ctx, aws: bool, env_flag: Option<&str>) -> CliResult {
    let paths = &ctx.paths;
    let mut warnings = Vec::new();
    let environments = config::load_environments(paths);
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
    let mut checks = vec![check(ctx, &paths.environments(), environments, |e| {
        format!("{} environments: {}", e.list.len(), e.names().join(", "))
    })];
    let aws_path = if !paths.aws_credentials().exists() && paths.legacy_faber_config().exists() {
        paths.legacy_faber_config()
    } else {
        paths.aws_credentials()
    };
    checks.push(check(
        ctx,
        &aws_path,
        config::load_aws(paths, &mut warnings),
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
    let monitoring = config::load_monitoring(paths, &mut warnings);
    if let Ok(m) = &monitoring {
        warnings.extend(helm_core::responder::policy::listed_twice(m));
    }
    checks.push(check(ctx, &mon_path, monitoring, |m| {
        format!(
            "{} settings ({} from the file)",
            m.values.len(),
            m.values
                .values()
                .filter(|s| s.source != Source::Default)
                .count()
        )
    }));
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
    checks.push(check(ctx, &paths.registry(), registry, |r| {
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
            let parsed = helm_core::registry::faber_environment_registry(&f, &text, &env);
            checks.push(check(ctx, &f, parsed, |d| {
                format!(
                    "faber-cloud registry of {}: {} resources",
                    d.environment,
                    d.resources.len()
                )
            }));
        }
    }
    let monitors = check_json_file(&paths.domain_monitors());
    checks.push(check(ctx, &paths.domain_monitors(), monitors, |_| {
        "valid JSON".into()
    }));
    // A file whose values are unfilled placeholders is not "ok".
    for c in &mut checks {
        if c.status == "ok"
            && warnings
                .iter()
                .any(|w| w.starts_with(&format!("{}:", c.path)) && w.contains("placeholder"))
        {
            c.status = "warning";
            c.hint = Some("fill in the placeholders (they are ignored until then)".into());
        }
    }

    let valid = checks.iter().all(|c| c.status != "invalid");
    // The environment matters only for --aws (whose credentials); an explicit one is checked.
    let env: String = match (env_flag, &env_names) {
        (Some(e), _) => e.to_string(),
        (None, Some(names)) if !names.iter().any(|n| n == "test") => {
            names.first().cloned().unwrap_or_else(|| "test".into())
        }
        _ => "test".into(),
    };
    let env = env.as_str();
    if valid
        && env_flag.is_some()
        && let Some(names) = &env_names
        && !names.iter().any(|n| n == env)
    {
        let config = ctx.config()?;
        ctx.check_env(&config, env)?;
    }

    let mut aws_json = Value::Null;
    let mut aws_text = String::new();
    if aws && valid {
        let config = ctx.config()?;
        let settings = ctx.client_settings(&config, env)?;
        let creds = config.credentials(&ctx.inputs, env);
        let region = config.region(&ctx.inputs, None);
        let endpoint = config.endpoint(&ctx.inputs);
        ctx.out.debug(&format!(
            "client settings: region {}, endpoint {:?}, {} attempts, timeout {:?}",
            settings.region,
            settings.endpoint_url,
            settings.max_attempts,
            settings.operation_timeout
        ));
        let clients = helm_aws::AwsClients::new(settings).await;
        let id = clients.caller_identity().await?;
        if let Some(expected) = &config.aws.account_id
            && expected != &id.account
        {
            warnings.push(format!(
                "the credentials belong to account {}, but aws-credentials.json says {expected}",
                id.account
            ));
        }
        aws_json = json!({
            "account": id.account, "arn": id.arn,
            "region": region.value, "region_source": source_text(ctx, &region.source),
            "endpoint_url": endpoint.as_ref().map(|e| e.value.clone()),
            "credentials": creds.value.to_string(), "credentials_source": source_text(ctx, &creds.source),
        });
        aws_text = format!(
            "\nAWS (sts:GetCallerIdentity):\n  account      {}\n  identity     {}\n  region       {} ({})\n  endpoint     {}\n  credentials  {} ({})\n",
            id.account,
            id.arn,
            region.value,
            source_text(ctx, &region.source),
            endpoint
                .as_ref()
                .map(|e| format!("{} ({})", e.value, source_text(ctx, &e.source)))
                .unwrap_or_else(|| "AWS default endpoints".into()),
            creds.value,
            source_text(ctx, &creds.source),
        );
    }

    let json = json!({
        "valid": valid,
        "files": checks.iter().map(|c| json!({"path": c.path, "status": c.status, "detail": c.detail, "hint": c.hint})).collect::<Vec<_>>(),
        "warnings": warnings,
        "aws": aws_json,
    });
    ctx.out.result(&json, || {
        let mut s = String::new();
        for c in &checks {
            s.push_str(&format!(
                "{:<8} {}  {}\n",
                c.status,
                c.path,
                if c.status == "invalid" { "" } else { &c.detail }
            ));
            if c.status == "invalid" {
                s.push_str(&format!("         {}\n", c.detail));
                if let Some(h) = &c.hint {
                    s.push_str(&format!("         {h}\n"));
                }
            }
        }
        for w in &warnings {
            s.push_str(&format!("warning  {w}\n"));
        }
        s.push_str(&aws_text);
        s
    });
    if !valid {
        let n = checks.iter().filter(|c| c.status == "invalid").count();
        return Err(
            CliError::new(EXIT_DATAERR, format!("{n} configuration file(s) invalid"))
                .hint("fix the lines named above, then run `helm-cloud config validate` again"),
        );
    }
    Ok(0)
}

/// A JSON file with an optional `version`: syntax and version only.
fn check_json_file(path: &std::path::Path) -> Result<(), Error> {
    let Some(text) = fsutil::read_optional(path)? else {
        return Ok(());
    };
    let value = reg::parse_json(path, &text)?;
    let v = value.get("version").and_then(Value::as_str);
    version::check(path, None, v)?;
    Ok(())
}
