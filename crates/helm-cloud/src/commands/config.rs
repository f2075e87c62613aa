//! `helm-cloud config show|validate`

use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_DATAERR};
use crate::table;
use helm_core::config::{Source, validate};
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
    let settings = validate::effective(&config, &ctx.inputs, env)?;
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

pub async fn validate(ctx: &Ctx, aws: bool, env_flag: Option<&str>) -> CliResult {
    let validation = validate::validate(&ctx.paths);
    let valid = validation.valid();
    let env_names = validation.environments.clone();
    let checks = &validation.checks;
    let mut warnings = validation.warnings.clone();
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
        "files": checks.iter().map(|c| json!({"path": ctx.show_path(&c.path), "status": c.status, "detail": c.detail, "hint": c.hint})).collect::<Vec<_>>(),
        "warnings": warnings,
        "aws": aws_json,
    });
    ctx.out.result(&json, || {
        let mut s = String::new();
        for c in checks {
            s.push_str(&format!(
                "{:<8} {}  {}\n",
                c.status,
                ctx.show_path(&c.path),
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
        let n = validation.invalid_count();
        return Err(
            CliError::new(EXIT_DATAERR, format!("{n} configuration file(s) invalid"))
                .hint("fix the lines named above, then run `helm-cloud config validate` again"),
        );
    }
    Ok(0)
}
