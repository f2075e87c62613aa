//! The command line: clap types only. Doc comments are the help text.

use crate::context::env_vars;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// helm-cloud: FABER creates, Helm operates.
///
/// Reads the deployment registry that faber-cloud writes and runs the Helm workflow
/// (monitor, analyze, alert, remediate) on what was deployed.
#[derive(Debug, Parser)]
#[command(
    name = "helm-cloud",
    version,
    propagate_version = true,
    max_term_width = 100,
    // A later `--format voice` wins over an earlier `--format json` (the plugins put theirs first).
    args_override_self = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Project root (default: the enclosing git work tree's top, else the current directory).
    #[arg(long, global = true, env = env_vars::HELM_ROOT, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Output format: `json` prints exactly one JSON document on stdout.
    #[arg(long, global = true, env = env_vars::HELM_FORMAT, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Send every AWS call to this endpoint (an emulator, a VPC endpoint) [env: AWS_ENDPOINT_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// AWS profile (see README: credential precedence) [env: AWS_PROFILE].
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// AWS region (see README: region precedence) [env: AWS_REGION].
    #[arg(long, global = true, value_name = "NAME")]
    pub region: Option<String>,

    /// More detail on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// No colour in text output [env: NO_COLOR] (text output is plain so far).
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Account × region groups read at once when an environment lists `accounts`
    /// (environments.json); 1 reads them one at a time.
    #[arg(long, global = true, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Pretend it is this time (RFC 3339), for reproducible reports and tests.
    #[arg(long, global = true, env = env_vars::HELM_NOW, hide = true, value_name = "TIME")]
    pub now: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// Sentences for text-to-speech (`dashboard`; other commands print text).
    Voice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the .fractary/ skeleton and the commented monitoring.toml (never overwrites a file).
    /// Print a shell completion script: `helm-cloud completions bash > /etc/bash_completion.d/helm-cloud`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff): `helm-cloud man | man -l -`.
    #[command(hide = true)]
    Man,

    Init,

    /// Allow (or forbid) the health commands of this project's domain-monitors.json to run.
    ///
    /// Like direnv's `allow`: the SHA-256 of the file's content is recorded in your config
    /// directory; a changed file is untrusted again. CI can set HELM_TRUST_DOMAIN_COMMANDS=1.
    #[command(subcommand)]
    Domains(DomainsCommand),

    /// Check every resource of an environment: status, CloudWatch metrics and alarms against
    /// the SLOs of monitoring.toml; save a report; open, update and resolve issues.
    ///
    /// Exit code: 0 HEALTHY, 1 DEGRADED, 2 UNHEALTHY, 3 UNKNOWN (the worst resource).
    Health {
        /// Environment to check.
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
        /// Check only this resource (its registry id).
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        /// How far back to look (30m, 1h, 24h…).
        #[arg(long, default_value = "1h", value_name = "DURATION")]
        timeframe: String,
        /// Send what changed (issues opened, worse, resolved) to the [notifications] channels.
        #[arg(long)]
        notify: bool,
    },

    /// Average, minimum, maximum, p95 and p99 of one metric of one resource, with a sparkline.
    Metrics {
        /// The resource (its registry id).
        #[arg(long, value_name = "ID")]
        service: String,
        /// The metric: its CloudWatch name (Duration) or report key (duration_p95_ms).
        #[arg(long, value_name = "NAME")]
        metric: String,
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
        #[arg(long, default_value = "1h", value_name = "DURATION")]
        timeframe: String,
    },

    /// Trends and anomalies of each SLO metric over time (5-minute resolution).
    Performance {
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
        /// Only this resource (its registry id).
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        #[arg(long, default_value = "24h", value_name = "DURATION")]
        timeframe: String,
    },

    /// Error budgets and burn-rate alerts of each objective ([slo] in monitoring.toml).
    /// Exit 0 ok, 1 ticket, 2 page, 3 insufficient data everywhere.
    Slo {
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
        /// Only this resource (its registry id, or a type).
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        /// Send what changed to the [notifications] channels.
        #[arg(long)]
        notify: bool,
    },

    /// The Helm loop: health, issues, SLOs and escalation for each environment, every
    /// health_check_interval. One per project root; SIGINT/SIGTERM finish the cycle.
    Watch {
        /// An environment to watch (repeatable; default: [helm-cloud] environments).
        #[arg(long, value_name = "E")]
        env: Vec<String>,
        /// Time between cycles (default: [monitoring] health_check_interval).
        #[arg(long, value_name = "DURATION")]
        interval: Option<String>,
        /// Stop after N cycles.
        #[arg(long, value_name = "N", conflicts_with = "once")]
        cycles: Option<u64>,
        /// One cycle, then exit (for cron and tests).
        #[arg(long)]
        once: bool,
        /// Serve /metrics (Prometheus text) and /healthz on ADDR, e.g. 127.0.0.1:9464.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Never remediate automatically (by default the loop runs the auto_remediate
        /// actions where the environment needs no confirmation).
        #[arg(long)]
        no_remediate: bool,
        /// Send no notifications (by default every cycle does).
        #[arg(long)]
        no_notify: bool,
    },

    /// Matching log events of one resource over a window, streamed (CloudWatch Logs).
    Logs {
        /// The resource (its registry id).
        #[arg(long, value_name = "ID")]
        service: String,
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
        /// A CloudWatch filter pattern: terms, "phrases", ?any, -none, { $.level = "ERROR" }.
        #[arg(long, value_name = "PATTERN")]
        filter: Option<String>,
        /// How far back to look.
        #[arg(long, default_value = "1h", value_name = "DURATION")]
        since: String,
        /// Stop after this many matching events.
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },

    /// Mine log templates from a file of log lines (one message a line; `-` or nothing is stdin).
    Patterns {
        /// The file of log lines.
        file: Option<PathBuf>,
        /// How many templates to show.
        #[arg(long, default_value_t = 20, value_name = "N")]
        top: usize,
        /// Write `LineId,EventTemplate` with each line's final template to this CSV file.
        #[arg(long, value_name = "OUT.csv")]
        assignments: Option<PathBuf>,
        /// Threads masking lines (default: one per core, at most 8); the result is the same
        /// for any number.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        threads: Option<u16>,
    },

    /// What happened: mine the logs of the window, build a timeline and name the root cause.
    Investigate {
        /// A question or resource names: "api function errors in the last 2 hours".
        query: Option<String>,
        /// Environment (default test; with --issue, the issue's own).
        #[arg(long, value_name = "E")]
        env: Option<String>,
        /// Investigate an issue: its resources, from 30 minutes before it was detected.
        #[arg(long, value_name = "ID")]
        issue: Option<String>,
        /// Investigate one resource (its registry id).
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        /// How far back to look when the question names no time.
        #[arg(long, default_value = "1h", value_name = "DURATION")]
        timeframe: String,
    },

    /// Plan, confirm, apply, verify and record a remediation, under the safety policy.
    ///
    /// Exit code: 0 applied and verified (or a dry run), 1 applied but not verified,
    /// 4 refused by policy or not confirmed.
    Remediate {
        /// What to do, in words: "restart the api lambda", "scale web to 4 tasks".
        description: Option<String>,
        /// The action (see README: the catalogue).
        #[arg(long, value_name = "A")]
        action: Option<String>,
        /// The resource (its registry id).
        #[arg(long, value_name = "ID")]
        service: Option<String>,
        /// Remediate an issue: its resource, and the action that fits its check.
        #[arg(long, value_name = "ID")]
        issue: Option<String>,
        /// scale_resources: the new desired count, reserved concurrency, desired capacity or shard count.
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        value: Option<i64>,
        /// modify_autoscaling: the minimum task count.
        #[arg(long, value_name = "N")]
        min: Option<i64>,
        /// modify_autoscaling: the maximum task count.
        #[arg(long, value_name = "N")]
        max: Option<i64>,
        /// invalidate_cloudfront: paths, comma-separated (default /*).
        #[arg(long, value_name = "PATHS")]
        paths: Option<String>,
        /// Environment (default test; with --issue, the issue's own).
        #[arg(long, value_name = "E")]
        env: Option<String>,
        /// Confirm without a prompt (never overrides never_auto).
        #[arg(long)]
        yes: bool,
        /// Show the plan and record it; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run even within the cooldown of the same action on the same resource.
        #[arg(long)]
        force: bool,
    },

    /// Audit cost, security or compliance (or all); exit 0 pass, 1 warning, 2 error, 3 critical.
    /// `audit diff OLD.json NEW.json`: new, resolved and unchanged findings.
    #[command(subcommand_negates_reqs = true, args_conflicts_with_subcommands = true)]
    Audit {
        #[command(subcommand)]
        command: Option<AuditCommand>,
        /// cost, security, compliance or all.
        #[arg(long = "type", alias = "focus", value_parser = ["cost", "security", "compliance", "all"], value_name = "TYPE", required = true)]
        kind: Option<String>,
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
        #[arg(long, default_value = "30d", value_name = "DURATION")]
        timeframe: String,
        /// Send what changed to the [notifications] channels.
        #[arg(long)]
        notify: bool,
        /// `registry`: the registry's resources; `account`: also sweep every volume,
        /// snapshot, database, key, log group, function, task definition, secret, security
        /// group and network ACL of the regions (all regions at once), and the account's
        /// IAM users, roles, password policy, certificates, buckets and trails.
        #[arg(long, value_parser = ["registry", "account"], default_value = "registry")]
        scope: String,
        /// The regions `--scope account` sweeps (comma-separated; default: the
        /// registry's regions and the default region).
        #[arg(long, value_delimiter = ',', value_name = "R1,R2")]
        regions: Vec<String>,
        /// Print the report as SARIF 2.1.0, OCSF Detection Findings or CSV (and save it
        /// beside the JSON report) instead of the text or JSON rendering.
        #[arg(long, value_parser = ["sarif", "ocsf", "csv"], value_name = "FORMAT")]
        output: Option<String>,
        /// With --type compliance: every control of the framework as pass, fail, not
        /// evaluated or manual (cis-3.0 or fsbp).
        #[arg(long, value_parser = ["cis-3.0", "fsbp"], value_name = "NAME")]
        framework: Option<String>,
        /// Also compare with the previous report of the same type and environment.
        #[arg(long)]
        since_last: bool,
    },

    /// Alerts: `notify test CHANNEL`, `notify status`, `notify flush`.
    #[command(subcommand)]
    Notify(NotifyCommand),

    /// Active issues in priority order; `issues show ID`, `issues resolve ID`.
    Issues {
        #[command(subcommand)]
        command: Option<IssuesCommand>,
        /// Only CRITICAL issues (combine with the other severities).
        #[arg(long)]
        critical: bool,
        #[arg(long)]
        high: bool,
        #[arg(long)]
        medium: bool,
        #[arg(long)]
        low: bool,
        /// Only this domain.
        #[arg(long, value_name = "D")]
        domain: Option<String>,
        /// Only this environment.
        #[arg(long, value_name = "E")]
        env: Option<String>,
        /// Only the N highest.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
    },

    /// Every domain's latest health, the top issues and what to do (exit code: overall health).
    Dashboard {
        #[arg(long, value_name = "E")]
        env: Option<String>,
        #[arg(long, value_name = "D")]
        domain: Option<String>,
        /// How many top issues to show.
        #[arg(long, default_value_t = 5, value_name = "N")]
        issues: usize,
        /// Run the health checks first.
        #[arg(long)]
        refresh: bool,
    },

    /// One line per domain and environment (exit code: overall health).
    Status {
        #[arg(long, value_name = "D")]
        domain: Option<String>,
        #[arg(long, value_name = "E")]
        env: Option<String>,
    },

    /// Hand an issue to the team as a work item (GitHub issue, or Markdown).
    Escalate {
        /// The issue id (infra-001).
        id: String,
        /// critical, high, medium or low (any case: the plugin writes CRITICAL).
        #[arg(long, ignore_case = true, value_parser = ["critical", "high", "medium", "low"], value_name = "P")]
        priority: Option<String>,
    },

    /// The retired faber-cloud entry point: check-health, query-logs, investigate, remediate, audit.
    #[command(name = "ops-manage")]
    OpsManage {
        /// The operation.
        operation: String,
        /// Its arguments, as faber-cloud took them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },

    /// Route a plain-language request to the command that serves it, say which, and run it.
    Ask {
        /// The request: "what's production status?".
        text: String,
        /// Only print the command it would run.
        #[arg(long)]
        explain: bool,
    },

    /// The dashboard as a local web page (read-only: it reads the project's files, makes no
    /// AWS call and runs no command); pages update live when a report is written.
    Serve {
        /// Address to listen on (loopback unless --token-env is given).
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
        listen: String,
        /// Environments to show (repeatable; default: every configured one).
        #[arg(long, value_name = "E")]
        env: Vec<String>,
        /// The environment variable holding a bearer token every request must present
        /// (required to listen beyond loopback).
        #[arg(long, value_name = "NAME")]
        token_env: Option<String>,
    },

    /// Serve the commands to AI agents over the Model Context Protocol (stdio): health,
    /// slo, metrics, logs, investigate, audit, issues, issue_show, dashboard, status,
    /// escalate, remediate_plan and remediate_apply. The project, endpoint and AWS settings
    /// are this command's own (flags and environment), never the agent's.
    Mcp {
        /// The only environment agents may act on (default: any the project configures).
        #[arg(long, value_name = "E")]
        env: Option<String>,
        /// How long a remediation plan stays valid for remediate_apply.
        #[arg(long, default_value = "10m", value_name = "DURATION")]
        plan_ttl: String,
    },

    /// Show or check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Read and edit the deployment registry (.fractary/registry/deployments.json).
    #[command(subcommand)]
    Registry(RegistryCommand),

    /// Shared state ([state] in monitoring.toml): where it lives, who holds the watch
    /// lease, and copying a project's state to S3 and back.
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// The backend; on S3, the watch lease's holder and expiry and the shared cycle count.
    Status,
    /// Copy the project's state (registry, issues, reports, watch state, outbox,
    /// remediation history) to the [state] bucket, or back; a second run writes nothing.
    /// Exit 1 when an object changed at the destination while copying.
    Migrate {
        /// Where to copy to.
        #[arg(long, value_parser = ["s3", "local"])]
        to: String,
        /// List what would be copied, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test event to one channel now (PagerDuty: a trigger at severity info and its resolve).
    Test {
        /// The channel's name ([notifications.<name>]).
        channel: String,
    },
    /// The channels, and the deliveries pending or failed (exit 1 when any).
    Status,
    /// Deliver what waits in the outbox now (exit 1 when some still wait or were refused).
    Flush,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// New, resolved and unchanged findings between two saved audit reports (JSON); exit 0
    /// when nothing is new, 1 when something is.
    Diff {
        #[arg(value_name = "OLD.json")]
        old: std::path::PathBuf,
        #[arg(value_name = "NEW.json")]
        new: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum IssuesCommand {
    /// One issue with its history.
    Show { id: String },
    /// Resolve an issue by hand.
    Resolve {
        id: String,
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the merged configuration and where each value came from.
    Show {
        /// Environment whose credentials and confirmation rule to show.
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
    },
    /// Check every configuration file and the registry; exit 0 if valid, 65 if not.
    Validate {
        /// Also call sts:GetCallerIdentity and print the account, region, endpoint and profile in use.
        #[arg(long)]
        aws: bool,
        /// Environment whose credentials to use with --aws (default test, else the first
        /// configured one). Checking the files needs no environment.
        #[arg(long, value_name = "E")]
        env: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// List deployments and their resources (all environments, or one with --env).
    List {
        /// Only this environment, after the later-deployed-wins rule.
        #[arg(long, value_name = "E")]
        env: Option<String>,
    },
    /// Add a deployment, or replace the one with the same id.
    Add {
        /// A deployment JSON document (an object, or an array of them); `-` reads stdin.
        #[arg(long, value_name = "DEPLOYMENT.json")]
        file: PathBuf,
    },
    /// Remove a deployment by its id.
    Remove {
        /// The deployment id.
        id: String,
    },
    /// Build deployments from what already describes the estate (a Terraform state,
    /// CloudFormation stacks, or a tag) and add them, or replace those with the same id;
    /// unsupported resources are listed.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["terraform_state", "cloudformation", "all_stacks", "tag"])))]
    Import {
        /// A state file (format version 4) or `terraform show -json` output; `-` reads stdin.
        #[arg(long, value_name = "FILE")]
        terraform_state: Option<PathBuf>,
        /// These stacks (in the environment's region): one deployment each, named after it.
        #[arg(long, value_name = "STACK", num_args = 1..)]
        cloudformation: Vec<String>,
        /// Every stack of the environment's region.
        #[arg(long)]
        all_stacks: bool,
        /// What carries this tag (the Resource Groups Tagging API): `tag-<key>-<value>`.
        #[arg(long, value_name = "KEY=VALUE")]
        tag: Option<String>,
        /// The environment the deployments belong to.
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
        /// The Terraform workspace the state is of: the deployment is `terraform-<W>`.
        #[arg(long, value_name = "W", default_value = "default")]
        workspace: String,
        /// The deployment id (one deployment only; default: the stack, workspace or tag).
        #[arg(long, value_name = "ID")]
        deployment: Option<String>,
        /// Print the change as a diff; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Registered resources AWS no longer holds, and resources of the imported stacks,
    /// state files or tags that are not registered. Exit 0 none, 1 drift, 3 nothing drifted
    /// but something could not be checked.
    Drift {
        #[arg(long, default_value = "test", value_name = "E")]
        env: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DomainsCommand {
    /// Trust the commands of the current domain-monitors.json content.
    Trust,
    /// Stop trusting them.
    Untrust,
}
