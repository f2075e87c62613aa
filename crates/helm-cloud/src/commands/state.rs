//! `helm-cloud state status|migrate`: where shared state lives, who holds the watch lease,
//! and copying a project's state up to S3 and back. The copy and the lease are helm-core's
//! `state`; the S3 store is helm-aws's.

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use helm_aws::state::S3Store;
use helm_core::config::Config;
use helm_core::config::settings::S3State;
use helm_core::state::local::LocalStore;
use helm_core::state::{ObjectStore, lease, migrate, session};
use serde_json::{Value, json};
use std::future::Future;

/// The keys of the watch's shared objects.
pub const LEASE_KEY: &str = "watch/lease.json";
pub const WATCH_STATE_KEY: &str = "watch/state.json";

/// The S3 store `[state]` names (bucket, prefix, region), reached with the project's
/// credentials and endpoint (no environment's profile: the state bucket is the team's).
pub async fn s3_store(ctx: &Ctx, config: &Config, s3: &S3State) -> CliResult<S3Store> {
    let mut cs = ctx.client_settings(config, "")?;
    if let Some(r) = &s3.region {
        cs.region = r.clone();
    }
    let region = cs.region.clone();
    let clients = helm_aws::AwsClients::new(cs).await;
    Ok(clients.state_store(&s3.bucket, &s3.prefix, &region))
}

/// Runs `work`, a command on the project's state, in a session on the shared state when
/// `[state] backend = "s3"` (helm-core's `state::session`: lock, pull, run, push, release);
/// as it is otherwise. A configuration that cannot be read leaves the command to say so.
pub async fn shared<F>(ctx: &Ctx, work: F) -> CliResult
where
    F: Future<Output = CliResult>,
{
    let Ok(config) = ctx.config() else {
        return work.await;
    };
    let settings = config.monitoring.settings();
    let Some(s3) = &settings.state.s3 else {
        return work.await;
    };
    let store = s3_store(ctx, &config, s3).await?;
    let terms = session::LockTerms::new(settings.state.lease);
    let me = lease::holder_id();
    let (out, report) = session::run(
        &store,
        &ctx.paths.fractary(),
        &me,
        &terms,
        &ctx.checkpoint,
        work,
    )
    .await?;
    if ctx.out.verbose > 0 {
        ctx.out.warn_plain(&format!(
            "shared state {}: pulled {} (removed {}), pushed {} (deleted {}){}",
            store.location(),
            report.pulled.fetched.len(),
            report.pulled.removed.len(),
            report.pushed.written.len(),
            report.pushed.deleted.len(),
            if report.waited_rounds > 0 {
                format!(
                    ", after waiting for the lock {} rounds",
                    report.waited_rounds
                )
            } else {
                String::new()
            }
        ));
    }
    out
}

/// `[state]`'s S3 settings, whatever the backend (migrate runs before the switch).
fn s3_settings(config: &Config) -> CliResult<S3State> {
    let m = &config.monitoring;
    let bucket = m.str("state.bucket").unwrap_or_default().trim().to_string();
    if bucket.is_empty() {
        return Err(CliError::usage("[state] names no bucket").hint(
            "set bucket (and prefix, region) under [state] in monitoring.toml, then run it again",
        ));
    }
    Ok(S3State {
        bucket,
        prefix: m.str("state.prefix").unwrap_or_default().to_string(),
        region: m
            .str("state.region")
            .filter(|r| !r.is_empty())
            .map(str::to_string),
    })
}

/// `state migrate --to s3|local`: copy the project's state across, idempotently.
pub async fn migrate(ctx: &Ctx, to: &str, dry_run: bool) -> CliResult {
    let config = ctx.config()?;
    let s3 = s3_store(ctx, &config, &s3_settings(&config)?).await?;
    let local = LocalStore::new(ctx.paths.fractary());
    let report = match to {
        "s3" => {
            // What this copy shared with the bucket before, and the bucket removed since,
            // stays removed.
            let root = ctx.paths.fractary();
            let before = session::read_base(&root, &s3.location())?
                .map(|b| b.keys.into_keys().collect())
                .unwrap_or_default();
            migrate::copy(&local, &s3, dry_run, &before).await?
        }
        "local" => migrate::copy(&s3, &local, dry_run, &Default::default()).await?,
        other => {
            return Err(CliError::usage(format!("--to {other}: use s3 or local")));
        }
    };
    let doc = serde_json::to_value(&report).expect("the report serialises");
    ctx.out.result(&doc, || {
        let verb = if dry_run { "would copy" } else { "copied" };
        let mut s = format!(
            "{verb} {} → {}: {} created, {} updated, {} unchanged{}{}\n",
            report.from,
            report.to,
            report.created.len(),
            report.updated.len(),
            report.unchanged.len(),
            if report.conflicted.is_empty() {
                String::new()
            } else {
                format!(", {} changed meanwhile (left as they are)", report.conflicted.len())
            },
            if report.removed_there.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} left out (removed there since this copy last shared them)",
                    report.removed_there.len()
                )
            }
        );
        for (mark, keys) in [("+", &report.created), ("~", &report.updated), ("!", &report.conflicted), ("-", &report.removed_there)] {
            for k in keys {
                s.push_str(&format!("  {mark} {k}\n"));
            }
        }
        if !dry_run && to == "s3" && config.monitoring.str("state.backend") != Some("s3") {
            s.push_str("Set `backend = \"s3\"` under [state] for every command to share the state there.\n");
        }
        s
    });
    if report.conflicted.is_empty() {
        Ok(0)
    } else {
        ctx.out.warn(&format!(
            "{} objects changed at the destination while copying: run it again to copy over them",
            report.conflicted.len()
        ));
        Ok(1)
    }
}

/// `state status`: the backend, and on S3 the watch lease and the shared watch state.
pub async fn status(ctx: &Ctx) -> CliResult {
    let config = ctx.config()?;
    let settings = config.monitoring.settings();
    let Some(s3) = &settings.state.s3 else {
        let doc = json!({"backend": "local", "location": ctx.show_path(&ctx.paths.fractary())});
        ctx.out.result(&doc, || {
            format!(
                "state: local files under {} (one machine; set [state] backend = \"s3\" to share it)",
                ctx.show_path(&ctx.paths.fractary())
            )
        });
        return Ok(0);
    };
    let store = s3_store(ctx, &config, s3).await?;
    let now = chrono::Utc::now();
    let lease_at = async |key: &str| -> CliResult<Value> {
        Ok(match store.get(key).await? {
            None => Value::Null,
            Some(v) => match serde_json::from_slice::<lease::LeaseRecord>(&v.bytes) {
                Ok(r) => {
                    let mut d = serde_json::to_value(&r).expect("a lease serialises");
                    d["live"] = Value::from(now < r.expires_at);
                    d
                }
                Err(e) => json!({"unreadable": e.to_string()}),
            },
        })
    };
    let lease_doc = lease_at(LEASE_KEY).await?;
    let lock_doc = lease_at(session::LOCK_KEY).await?;
    let cycles = match store.get(WATCH_STATE_KEY).await? {
        Some(v) => serde_json::from_slice::<Value>(&v.bytes)
            .ok()
            .and_then(|s| s["cycles"].as_u64()),
        None => None,
    };
    let doc = json!({"backend": "s3", "location": store.location(),
        "lease_seconds": settings.state.lease.as_secs(),
        "lease": lease_doc, "lock": lock_doc, "watch_cycles": cycles});
    ctx.out.result(&doc, || {
        let line = |l: &Value, what: &str, free: &str| match l {
            Value::Null => free.to_string(),
            l if l.get("unreadable").is_some() => {
                format!(
                    "the {what} object is unreadable ({})",
                    l["unreadable"].as_str().unwrap_or("")
                )
            }
            l => format!(
                "{what}: {} (generation {}), {} {}",
                l["holder"].as_str().unwrap_or(""),
                l["generation"],
                if l["live"].as_bool() == Some(true) {
                    "until"
                } else {
                    "expired at"
                },
                l["expires_at"].as_str().unwrap_or("")
            ),
        };
        let lease_line = line(&doc["lease"], "watch lease", "no watch holds the lease");
        let lock_line = line(
            &doc["lock"],
            "state lock",
            "no command holds the state lock",
        );
        format!(
            "state: {}\n{lease_line}\n{lock_line}\nwatch cycles so far: {}",
            store.location(),
            cycles
                .map(|c| c.to_string())
                .unwrap_or_else(|| "none".into())
        )
    });
    Ok(0)
}
