//! What every command needs: the project, the configuration, the clock, the AWS settings
//! from flags and environment, and the printer.

use crate::cli::GlobalOpts;
use crate::error::{CliError, CliResult, EXIT_USAGE};
use crate::output::Printer;
use helm_aws::ClientSettings;
use helm_core::clock::{self, Clock, FixedClock, SystemClock};
use helm_core::config::{Config, Inputs, duration};
use helm_core::paths::ProjectPaths;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Environment variables helm-cloud reads (besides the AWS SDK's own).
pub mod env_vars {
    /// Project root (`--root`).
    pub const HELM_ROOT: &str = "HELM_ROOT";
    /// Output format (`--format`).
    pub const HELM_FORMAT: &str = "HELM_FORMAT";
    /// A fixed "now" (RFC 3339) for reproducible reports and tests (`--now`).
    pub const HELM_NOW: &str = "HELM_NOW";
    /// Attempts per AWS call in the SDK's standard retry mode (default 3; tests use 1).
    pub const HELM_AWS_MAX_ATTEMPTS: &str = "HELM_AWS_MAX_ATTEMPTS";
    /// Bound on one AWS call, retries included (default 60s).
    pub const HELM_AWS_TIMEOUT: &str = "HELM_AWS_TIMEOUT";
    /// The longest wait between two attempts of an AWS call (default 20s).
    pub const HELM_AWS_MAX_BACKOFF: &str = "HELM_AWS_MAX_BACKOFF";
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
    pub const AWS_PROFILE: &str = "AWS_PROFILE";
    pub const AWS_REGION: &str = "AWS_REGION";
    pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
    pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub struct Ctx {
    /// The global options as given (a routed command line inherits them).
    pub global: GlobalOpts,
    pub paths: ProjectPaths,
    pub clock: Box<dyn Clock>,
    pub inputs: Inputs,
    pub out: Printer,
    /// The configuration, read once per run (its warnings shown once).
    config: std::sync::OnceLock<Config>,
    /// Every AWS call of this run, counted (`-v` prints the totals at the end).
    pub calls: std::sync::Arc<CallTally>,
    /// Assumed-role credentials of the accounts environments list, kept for the run (a
    /// `watch` reuses them across cycles until shortly before they expire).
    pub roles: std::sync::Arc<helm_aws::fanout::RoleCache>,
    /// Who the remediation history names (None: the user and host; `mcp` names its client).
    pub actor: Option<String>,
    /// Pushes what the command wrote so far, inside a shared-state session (a no-op
    /// outside one).
    pub checkpoint: helm_core::state::session::Checkpoint,
}

/// AWS calls of one run: how many, how many the SDK retried and how many failed.
#[derive(Debug, Default)]
pub struct CallTally {
    calls: AtomicU64,
    retried: AtomicU64,
    extra_attempts: AtomicU64,
    failed: AtomicU64,
}

impl CallTally {
    fn add(&self, c: &helm_aws::CallRecord) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if c.attempts > 1 {
            self.retried.fetch_add(1, Ordering::Relaxed);
            self.extra_attempts
                .fetch_add(u64::from(c.attempts - 1), Ordering::Relaxed);
        }
        if !c.ok {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `aws: 40 calls, 6 retried (9 more attempts), 2 failed`, or None before any call.
    pub fn summary(&self) -> Option<String> {
        let calls = self.calls.load(Ordering::Relaxed);
        (calls > 0).then(|| {
            format!(
                "aws: {calls} calls, {} retried ({} more attempts), {} failed",
                self.retried.load(Ordering::Relaxed),
                self.extra_attempts.load(Ordering::Relaxed),
                self.failed.load(Ordering::Relaxed)
            )
        })
    }
}

impl Ctx {
    pub fn new(g: &GlobalOpts) -> CliResult<Ctx> {
        let cwd = std::env::current_dir()
            .map_err(|e| CliError::new(70, format!("reading the current directory: {e}")))?;
        let paths = ProjectPaths::discover(g.root.as_deref(), &cwd);
        let clock: Box<dyn Clock> = match &g.now {
            Some(t) => Box::new(FixedClock(clock::parse_rfc3339(t).ok_or_else(|| {
                CliError::usage(format!("--now {t:?} is not an RFC 3339 time"))
                    .hint("write it as 2025-11-03T20:00:00Z")
            })?)),
            None => Box::new(SystemClock),
        };
        let inputs = Inputs {
            flag_profile: g.profile.clone(),
            env_profile: env_nonempty(env_vars::AWS_PROFILE),
            env_has_keys: env_nonempty(env_vars::AWS_ACCESS_KEY_ID).is_some()
                && env_nonempty(env_vars::AWS_SECRET_ACCESS_KEY).is_some(),
            flag_region: g.region.clone(),
            env_region: env_nonempty(env_vars::AWS_REGION),
            flag_endpoint: g.endpoint_url.clone(),
            env_endpoint: env_nonempty(env_vars::AWS_ENDPOINT_URL),
        };
        let out = Printer {
            format: g.format,
            quiet: g.quiet,
            verbose: g.verbose,
            capture: None,
        };
        Ok(Ctx {
            global: g.clone(),
            paths,
            clock,
            inputs,
            out,
            config: std::sync::OnceLock::new(),
            calls: Default::default(),
            roles: Default::default(),
            actor: None,
            checkpoint: Default::default(),
        })
    }

    /// Load and check the project's configuration, showing its warnings.
    /// Read once per run; an invalid configuration is read again by whoever asks, so the
    /// command that needs it reports it.
    pub fn config(&self) -> CliResult<Config> {
        if let Some(c) = self.config.get() {
            return Ok(c.clone());
        }
        let config = Config::load(self.paths.clone())?;
        for w in &config.warnings {
            self.out.warn(w);
        }
        Ok(self.config.get_or_init(|| config).clone())
    }

    /// Check that `env` is one of the configured environments (exit 64 otherwise).
    pub fn check_env(&self, config: &Config, env: &str) -> CliResult<()> {
        config.environments.get(env)?;
        Ok(())
    }

    /// The client settings for environment `env`, from flags, environment and config.
    pub fn client_settings(&self, config: &Config, env: &str) -> CliResult<ClientSettings> {
        let mut s = ClientSettings::new(
            config.credentials(&self.inputs, env).value,
            config.region(&self.inputs, None).value,
        );
        s.endpoint_url = config.endpoint(&self.inputs).map(|e| e.value);
        // Every call counted; with -v each on stderr with its service, operation, region,
        // duration and (when the SDK retried) attempts.
        let verbose = self.out.verbose > 0 && !self.out.quiet;
        let tally = std::sync::Arc::clone(&self.calls);
        s.call_sink = Some(std::sync::Arc::new(move |c: &helm_aws::CallRecord| {
            tally.add(c);
            if verbose {
                eprintln!(
                    "aws: {} {} {} {}ms {}{}",
                    c.service,
                    c.operation,
                    c.region,
                    c.duration.as_millis(),
                    if c.ok { "ok" } else { "error" },
                    if c.attempts > 1 {
                        format!(" after {} attempts", c.attempts)
                    } else {
                        String::new()
                    }
                );
            }
        }));
        if let Some(v) = env_nonempty(env_vars::HELM_AWS_MAX_ATTEMPTS) {
            s.max_attempts = v.parse().map_err(|_| {
                CliError::new(
                    EXIT_USAGE,
                    format!(
                        "{} must be a whole number, not {v:?}",
                        env_vars::HELM_AWS_MAX_ATTEMPTS
                    ),
                )
            })?;
        }
        if let Some(v) = env_nonempty(env_vars::HELM_AWS_TIMEOUT) {
            let d: Duration = duration::parse(&v).map_err(|e| {
                CliError::new(EXIT_USAGE, format!("{}: {e}", env_vars::HELM_AWS_TIMEOUT))
            })?;
            s.operation_timeout = d;
            s.attempt_timeout = s.attempt_timeout.min(d);
        }
        if let Some(v) = env_nonempty(env_vars::HELM_AWS_MAX_BACKOFF) {
            // Milliseconds too (`50ms`): tests and fast retry loops back off below a second.
            let millis = v.trim().strip_suffix("ms").and_then(|n| n.parse().ok());
            s.max_backoff = match millis {
                Some(ms) => Duration::from_millis(ms),
                None => duration::parse(&v).map_err(|e| {
                    CliError::new(
                        EXIT_USAGE,
                        format!("{}: {e}", env_vars::HELM_AWS_MAX_BACKOFF),
                    )
                })?,
            };
        }
        Ok(s)
    }

    /// Build the AWS clients for environment `env`.
    pub async fn aws(&self, config: &Config, env: &str) -> CliResult<helm_aws::AwsClients> {
        Ok(helm_aws::AwsClients::new(self.client_settings(config, env)?).await)
    }

    /// The clients of `env` over every account it lists (each role assumed, or taken from
    /// the run's cache), reading `--concurrency` account × region groups at once. An
    /// account that cannot be reached is said once here; its resources are UNKNOWN.
    pub async fn fan_out(&self, config: &Config, env: &str) -> CliResult<helm_aws::fanout::FanOut> {
        let home = self.aws(config, env).await?;
        let accounts = &config.environments.get(env)?.accounts;
        let f = helm_aws::fanout::FanOut::new(
            home,
            accounts,
            usize::from(self.global.concurrency),
            &self.roles,
        )
        .await;
        for (account, why) in f.unreachable() {
            self.out.warn(&format!(
                "account {account} of {env} could not be reached ({why}): its resources are UNKNOWN"
            ));
        }
        Ok(f)
    }

    /// A path relative to the project root, for messages.
    pub fn show_path(&self, p: &std::path::Path) -> String {
        self.paths.display(p).into_owned()
    }
}
