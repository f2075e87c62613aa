//! `helm-cloud mcp`: the commands' use cases for AI agents, over the Model Context Protocol
//! on stdio (the official SDK, `rmcp`).
//!
//! A front end like the command line and nothing more: each tool's arguments become the
//! command line of its command, parsed by the same clap definitions (so the same defaults
//! and the same refusals), run through the same dispatch with the printer capturing the
//! `--format json` document, which the tool returns as structured content. The project,
//! the endpoint and the AWS settings are the server's own (its flags and environment);
//! an agent cannot choose them.
//!
//! Remediation is two tools: `remediate_plan` (a dry run, recorded, with a `plan_id`) and
//! `remediate_apply(plan_id)`, which runs the use case again under the same policy. What
//! needs a person's confirmation asks the person through MCP elicitation (type the
//! resource id, as at the terminal); a client that cannot elicit is refused, with the CLI
//! command to run instead. Every call is recorded with `actor: "mcp:<client>"`.

use crate::cli::{Cli, GlobalOpts};
use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_NOINPUT, EXIT_REFUSED, EXIT_SOFTWARE};
use crate::output::Captured;
use clap::Parser;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::{ElicitationMode, Peer, RoleServer};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The server: the global options it was started with, and the plans it handed out.
#[derive(Clone)]
pub struct HelmMcp {
    global: GlobalOpts,
    /// The one environment agents may act on (`mcp --env`), when given.
    only_env: Option<String>,
    plan_ttl: Duration,
    plans: Arc<Mutex<HashMap<String, StoredPlan>>>,
    tool_router: ToolRouter<HelmMcp>,
}

struct StoredPlan {
    args: RemediateArgs,
    plan: Value,
    made: Instant,
}

/// What a command run left: its exit code and JSON document, or its error.
struct Ran {
    code: u8,
    captured: Captured,
}

// ---------------------------------------------------------------------------------------
// Tool arguments: the commands' own, as typed structs (their JSON Schemas are generated).
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct HealthArgs {
    /// Environment to check (test, staging, prod; the plugins' words such as production work too). Default test.
    pub env: Option<String>,
    /// Check only this resource (its id in the deployment registry).
    pub service: Option<String>,
    /// How far back to look: 30m, 1h, 24h. Default 1h.
    pub timeframe: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct SloArgs {
    /// Environment. Default test.
    pub env: Option<String>,
    /// Only this resource (its registry id) or resource type.
    pub service: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct MetricsArgs {
    /// The resource (its registry id).
    pub service: String,
    /// The metric: its CloudWatch name (Duration, Errors) or report key (duration_p95_ms).
    pub metric: String,
    /// Environment. Default test.
    pub env: Option<String>,
    /// How far back: 30m, 1h, 24h. Default 1h.
    pub timeframe: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct LogsArgs {
    /// The resource (its registry id).
    pub service: String,
    /// Environment. Default test.
    pub env: Option<String>,
    /// A CloudWatch Logs filter pattern: ERROR, "timed out", ?WARN ?ERROR, { $.level = "ERROR" }.
    pub filter: Option<String>,
    /// How far back: 15m, 1h, 24h. Default 1h.
    pub since: Option<String>,
    /// Stop after this many matching events.
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct InvestigateArgs {
    /// A question or resource names: "api function errors in the last 2 hours".
    pub query: Option<String>,
    /// Environment (default test; with issue, the issue's own).
    pub env: Option<String>,
    /// Investigate this issue (infra-001): its resources, from 30 minutes before detection.
    pub issue: Option<String>,
    /// Investigate one resource (its registry id).
    pub service: Option<String>,
    /// How far back when the question names no time. Default 1h.
    pub timeframe: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct AuditArgs {
    /// cost, security, compliance or all.
    #[serde(rename = "type")]
    pub kind: String,
    /// Environment. Default test.
    pub env: Option<String>,
    /// Cost window: 7d, 30d. Default 30d.
    pub timeframe: Option<String>,
    /// registry (default) or account: also sweep every resource of the account's regions.
    pub scope: Option<String>,
    /// The regions the account scope sweeps. Default: the registry's and the default region.
    pub regions: Option<Vec<String>>,
    /// With type compliance: cis-3.0 or fsbp, every control as pass, fail, not evaluated or manual.
    pub framework: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct IssuesArgs {
    /// Only these severities: CRITICAL, HIGH, MEDIUM, LOW (any case). Default all.
    pub severity: Option<Vec<String>>,
    /// Only this domain (infrastructure, application…).
    pub domain: Option<String>,
    /// Only this environment.
    pub env: Option<String>,
    /// Only the N highest by priority.
    pub top: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct IssueShowArgs {
    /// The issue id (infra-001).
    pub id: String,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct DashboardArgs {
    /// Only this environment.
    pub env: Option<String>,
    /// Only this domain.
    pub domain: Option<String>,
    /// How many top issues. Default 5.
    pub issues: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct StatusArgs {
    /// Only this domain.
    pub domain: Option<String>,
    /// Only this environment.
    pub env: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct EscalateArgs {
    /// The issue id (infra-001).
    pub id: String,
    /// Override the priority: critical, high, medium or low.
    pub priority: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct RemediateArgs {
    /// What to do, in words: "restart the api lambda", "scale web to 4 tasks".
    pub description: Option<String>,
    /// The action: restart_lambda, restart_ecs_service, scale_resources, increase_capacity,
    /// modify_autoscaling, reboot_rds, invalidate_cloudfront…
    pub action: Option<String>,
    /// The resource (its registry id).
    pub service: Option<String>,
    /// Remediate this issue: its resource, and the action that fits its check.
    pub issue: Option<String>,
    /// scale_resources: the new desired count, reserved concurrency, desired capacity or shard count.
    pub value: Option<i64>,
    /// modify_autoscaling: the minimum task count.
    pub min: Option<i64>,
    /// modify_autoscaling: the maximum task count.
    pub max: Option<i64>,
    /// invalidate_cloudfront: paths, comma-separated (default /*).
    pub paths: Option<String>,
    /// Environment (default test; with issue, the issue's own).
    pub env: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ApplyArgs {
    /// The plan_id remediate_plan returned.
    pub plan_id: String,
}

/// What the person types when a plan needs confirmation.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Confirmation {
    /// Type the resource id exactly to apply the plan; anything else cancels.
    pub resource_id: String,
}
rmcp::elicit_safe!(Confirmation);

fn opt(argv: &mut Vec<String>, flag: &str, v: &Option<impl ToString>) {
    if let Some(v) = v {
        argv.push(flag.into());
        argv.push(v.to_string());
    }
}

impl RemediateArgs {
    fn argv(&self) -> Vec<String> {
        let mut a = vec!["remediate".to_string()];
        if let Some(d) = &self.description {
            a.push(d.clone());
        }
        opt(&mut a, "--action", &self.action);
        opt(&mut a, "--service", &self.service);
        opt(&mut a, "--issue", &self.issue);
        opt(&mut a, "--value", &self.value);
        opt(&mut a, "--min", &self.min);
        opt(&mut a, "--max", &self.max);
        opt(&mut a, "--paths", &self.paths);
        opt(&mut a, "--env", &self.env);
        a
    }
}

// ---------------------------------------------------------------------------------------
// Running a command as the CLI does, its output captured.
// ---------------------------------------------------------------------------------------

/// The confirmation of a run, asked through the MCP client (elicitation): the run's thread
/// sends the question, the tool's task asks the person and sends back the answer.
struct Elicited {
    can: bool,
    /// To the tool's task (sending never blocks the run's thread).
    asked: tokio::sync::mpsc::UnboundedSender<Question>,
    /// Set when the use case wanted a person and this client cannot ask one.
    wanted: Arc<std::sync::atomic::AtomicBool>,
}

struct Question {
    plan: String,
    question: String,
    expected: String,
    answer: std::sync::mpsc::SyncSender<bool>,
}

impl helm_core::ports::Confirmer for Elicited {
    fn can_ask(&self) -> bool {
        if !self.can {
            self.wanted.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        self.can
    }

    fn confirm(&self, plan: &str, question: &str, expected: &str) -> std::io::Result<bool> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.asked
            .send(Question {
                plan: plan.into(),
                question: question.into(),
                expected: expected.into(),
                answer: tx,
            })
            .map_err(|_| std::io::Error::other("the MCP session is gone"))?;
        // No answer (the client went away) is no confirmation.
        Ok(rx.recv().unwrap_or(false))
    }
}

/// Parse `argv` as the CLI would (after the server's own global options) and run it with
/// the result captured. `confirm` gives remediation its confirmer.
fn run_captured(
    global: &GlobalOpts,
    argv: Vec<String>,
    actor: Option<String>,
    confirm: Option<Elicited>,
) -> Result<Ran, CliError> {
    let mut full = vec!["helm-cloud".to_string()];
    full.extend(argv);
    let cli = Cli::try_parse_from(&full).map_err(|e| {
        CliError::usage(
            e.to_string()
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ")
                .to_string(),
        )
    })?;
    let mut g = global.clone();
    g.format = crate::cli::Format::Json;
    let mut ctx = Ctx::new(&g)?;
    ctx.actor = actor;
    let captured = Arc::new(Mutex::new(Captured::default()));
    ctx.out.capture = Some(Arc::clone(&captured));
    let mut command = cli.command;
    crate::normalize(&ctx, &mut command)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(EXIT_SOFTWARE, format!("starting the async runtime: {e}")))?;
    let code = runtime.block_on(async {
        if let Some(confirmer) = confirm
            && let Some(req) = crate::commands::remediate::Request::of(&command)
        {
            let work = crate::commands::remediate::run_with(&ctx, req, &confirmer);
            return crate::commands::state::shared(&ctx, work).await;
        }
        crate::dispatch_shared(&ctx, command).await
    })?;
    let captured = std::mem::take(&mut *captured.lock().expect("capture lock"));
    Ok(Ran { code, captured })
}

/// A tool error carrying the CLI's JSON error document.
fn tool_error(e: &CliError) -> CallToolResult {
    let mut r = CallToolResult::structured_error(e.to_json());
    let mut text = format!("{} (exit {})", e.message, e.code);
    if let Some(h) = &e.hint {
        text.push_str(&format!("\nhint: {h}"));
    }
    r.content = vec![
        ContentBlock::text(text),
        ContentBlock::text(e.to_json().to_string()),
    ];
    r
}

/// The command's JSON document as structured content, with its text rendering (cut to a
/// screenful) and exit code as the summary.
fn tool_result(ran: Ran, extra: Option<(&str, Value)>) -> CallToolResult {
    let mut json = ran.captured.json.unwrap_or(Value::Null);
    if let (Some((k, v)), Some(o)) = (extra, json.as_object_mut()) {
        o.insert(k.to_string(), v);
    }
    let mut summary: String = ran
        .captured
        .text
        .lines()
        .take(20)
        .collect::<Vec<_>>()
        .join("\n");
    summary.push_str(&format!("\n(exit {})", ran.code));
    let mut r = CallToolResult::structured(json.clone());
    r.content = vec![
        ContentBlock::text(summary),
        ContentBlock::text(json.to_string()),
    ];
    r
}

impl HelmMcp {
    pub fn new(global: GlobalOpts, only_env: Option<String>, plan_ttl: Duration) -> HelmMcp {
        HelmMcp {
            global,
            only_env,
            plan_ttl,
            plans: Default::default(),
            tool_router: Self::tool_router(),
        }
    }

    fn env_allowed(&self, env: &Option<String>) -> Result<(), CliError> {
        match (&self.only_env, env) {
            (Some(only), Some(e)) if only != e => Err(CliError::new(
                EXIT_REFUSED,
                format!("this MCP server serves environment {only} only, not {e}"),
            )
            .hint(format!("start another: helm-cloud mcp --env {e}"))),
            _ => Ok(()),
        }
    }

    fn default_env(&self, env: Option<String>) -> Option<String> {
        env.or_else(|| self.only_env.clone())
    }

    /// Run a read-only command (no confirmation can arise).
    async fn read(&self, env: &Option<String>, argv: Vec<String>) -> CallToolResult {
        if let Err(e) = self.env_allowed(env) {
            return tool_error(&e);
        }
        let global = self.global.clone();
        match tokio::task::spawn_blocking(move || run_captured(&global, argv, None, None)).await {
            Ok(Ok(ran)) => tool_result(ran, None),
            Ok(Err(e)) => tool_error(&e),
            Err(e) => tool_error(&CliError::new(
                EXIT_SOFTWARE,
                format!("the tool failed: {e}"),
            )),
        }
    }

    /// Run a remediation with confirmation through `peer`.
    async fn remediation(
        &self,
        peer: &Peer<RoleServer>,
        argv: Vec<String>,
    ) -> Result<Ran, CliError> {
        let client = peer
            .peer_info()
            .map(|i| i.client_info.name.clone())
            .unwrap_or_else(|| "unknown client".into());
        let actor = format!("mcp:{client}");
        let can = peer
            .supported_elicitation_modes()
            .contains(&ElicitationMode::Form);
        let (asked, mut questions) = tokio::sync::mpsc::unbounded_channel::<Question>();
        let wanted = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let confirmer = Elicited {
            can,
            asked,
            wanted: Arc::clone(&wanted),
        };
        let global = self.global.clone();
        let mut job = tokio::task::spawn_blocking(move || {
            run_captured(&global, argv, Some(actor), Some(confirmer))
        });
        loop {
            tokio::select! {
                done = &mut job => {
                    let out = done.map_err(|e| CliError::new(EXIT_SOFTWARE, format!("the tool failed: {e}")))?;
                    return match out {
                        Err(e) if wanted.load(std::sync::atomic::Ordering::SeqCst) => Err(CliError::new(
                            e.code,
                            e.message.replace("there is no terminal to ask", "this MCP client cannot ask the person (no elicitation)"),
                        ).hint(e.hint.unwrap_or_default().replace("run it in a terminal to confirm, or pass --yes: ", "a person confirms it at a terminal: "))),
                        other => other,
                    };
                }
                Some(q) = questions.recv() => {
                    let message = format!("{}\n\n{}", q.plan, q.question);
                    let typed = peer.elicit::<Confirmation>(message).await;
                    let ok = matches!(&typed, Ok(Some(c)) if c.resource_id.trim() == q.expected);
                    let _ = q.answer.send(ok);
                }
            }
        }
    }
}

#[tool_router]
impl HelmMcp {
    /// Check every resource of an environment (status, CloudWatch metrics and alarms against
    /// the SLOs), save a report, and open, update or resolve issues. The result is the
    /// health report; overall_health is HEALTHY, DEGRADED, UNHEALTHY or UNKNOWN (UNKNOWN
    /// means it could not be checked, never that it is fine).
    #[tool(annotations(title = "Health check", read_only_hint = true, open_world_hint = true))]
    async fn health(&self, Parameters(a): Parameters<HealthArgs>) -> CallToolResult {
        let env = self.default_env(a.env);
        let mut argv = vec!["health".to_string()];
        opt(&mut argv, "--env", &env);
        opt(&mut argv, "--service", &a.service);
        opt(&mut argv, "--timeframe", &a.timeframe);
        self.read(&env, argv).await
    }

    /// Error budgets and multi-window burn-rate alerts (page, ticket, ok) of each service
    /// level objective in monitoring.toml.
    #[tool(annotations(
        title = "SLO error budgets",
        read_only_hint = true,
        open_world_hint = true
    ))]
    async fn slo(&self, Parameters(a): Parameters<SloArgs>) -> CallToolResult {
        let env = self.default_env(a.env);
        let mut argv = vec!["slo".to_string()];
        opt(&mut argv, "--env", &env);
        opt(&mut argv, "--service", &a.service);
        self.read(&env, argv).await
    }

    /// Average, minimum, maximum, p95 and p99 of one metric of one resource over a window.
    #[tool(annotations(
        title = "Metric statistics",
        read_only_hint = true,
        open_world_hint = true
    ))]
    async fn metrics(&self, Parameters(a): Parameters<MetricsArgs>) -> CallToolResult {
        let env = self.default_env(a.env);
        let mut argv = vec![
            "metrics".to_string(),
            "--service".into(),
            a.service,
            "--metric".into(),
            a.metric,
        ];
        opt(&mut argv, "--env", &env);
        opt(&mut argv, "--timeframe", &a.timeframe);
        self.read(&env, argv).await
    }

    /// Matching CloudWatch log events of one resource over a window (secrets masked).
    #[tool(annotations(title = "Log events", read_only_hint = true, open_world_hint = true))]
    async fn logs(&self, Parameters(a): Parameters<LogsArgs>) -> CallToolResult {
        let env = self.default_env(a.env);
        let mut argv = vec!["logs".to_string(), "--service".into(), a.service];
        opt(&mut argv, "--env", &env);
        opt(&mut argv, "--filter", &a.filter);
        opt(&mut argv, "--since", &a.since);
        opt(&mut argv, "--limit", &a.limit);
        self.read(&env, argv).await
    }

    /// Mine the logs of a window, build a timeline and name the root cause with its
    /// evidence; the report is saved and linked to the issue when one is given.
    #[tool(annotations(
        title = "Investigate",
        read_only_hint = false,
        destructive_hint = false,
        open_world_hint = true
    ))]
    async fn investigate(&self, Parameters(a): Parameters<InvestigateArgs>) -> CallToolResult {
        let env = self.default_env(a.env);
        let mut argv = vec!["investigate".to_string()];
        if let Some(q) = a.query {
            argv.push(q);
        }
        opt(&mut argv, "--env", &env);
        opt(&mut argv, "--issue", &a.issue);
        opt(&mut argv, "--service", &a.service);
        opt(&mut argv, "--timeframe", &a.timeframe);
        self.read(&env, argv).await
    }

    /// Audit cost (Cost Explorer), security (Security Hub and direct checks) or compliance
    /// (AWS Config rules), or all; checks that could not run are "not evaluated", never pass.
    #[tool(annotations(title = "Audit", read_only_hint = true, open_world_hint = true))]
    async fn audit(&self, Parameters(a): Parameters<AuditArgs>) -> CallToolResult {
        let env = self.default_env(a.env);
        let mut argv = vec!["audit".to_string(), "--type".into(), a.kind];
        opt(&mut argv, "--env", &env);
        opt(&mut argv, "--timeframe", &a.timeframe);
        opt(&mut argv, "--scope", &a.scope);
        opt(&mut argv, "--regions", &a.regions.map(|r| r.join(",")));
        opt(&mut argv, "--framework", &a.framework);
        self.read(&env, argv).await
    }

    /// Active issues across domains in priority order (severity × domain weight + 2 for an
    /// SLO breach + hours since detection).
    #[tool(annotations(title = "Issues", read_only_hint = true, open_world_hint = false))]
    async fn issues(&self, Parameters(a): Parameters<IssuesArgs>) -> CallToolResult {
        let mut argv = vec!["issues".to_string()];
        for s in a.severity.unwrap_or_default() {
            argv.push(format!("--{}", s.to_ascii_lowercase()));
        }
        opt(&mut argv, "--domain", &a.domain);
        opt(&mut argv, "--env", &a.env);
        opt(&mut argv, "--top", &a.top);
        self.read(&a.env, argv).await
    }

    /// One issue with its history (detections, investigations, remediations, escalation).
    #[tool(annotations(
        title = "Show an issue",
        read_only_hint = true,
        open_world_hint = false
    ))]
    async fn issue_show(&self, Parameters(a): Parameters<IssueShowArgs>) -> CallToolResult {
        self.read(&None, vec!["issues".into(), "show".into(), a.id])
            .await
    }

    /// Every domain's latest health, the top issues and the recommended next actions.
    #[tool(annotations(title = "Dashboard", read_only_hint = true, open_world_hint = false))]
    async fn dashboard(&self, Parameters(a): Parameters<DashboardArgs>) -> CallToolResult {
        let mut argv = vec!["dashboard".to_string()];
        opt(&mut argv, "--env", &a.env);
        opt(&mut argv, "--domain", &a.domain);
        opt(&mut argv, "--issues", &a.issues);
        self.read(&a.env, argv).await
    }

    /// One line per domain and environment: its health and active issues.
    #[tool(annotations(title = "Status", read_only_hint = true, open_world_hint = false))]
    async fn status(&self, Parameters(a): Parameters<StatusArgs>) -> CallToolResult {
        let mut argv = vec!["status".to_string()];
        opt(&mut argv, "--domain", &a.domain);
        opt(&mut argv, "--env", &a.env);
        self.read(&a.env, argv).await
    }

    /// Hand an issue to the team as a work item (a GitHub issue when configured, else
    /// Markdown); once per issue, a second call finds the first work item.
    #[tool(annotations(
        title = "Escalate",
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn escalate(&self, Parameters(a): Parameters<EscalateArgs>) -> CallToolResult {
        let mut argv = vec!["escalate".to_string(), a.id];
        opt(&mut argv, "--priority", &a.priority);
        self.read(&None, argv).await
    }

    /// Plan a remediation without changing anything: the action, the resource, its state
    /// now, the policy decision (auto or confirm; never_auto is refused) and a plan_id for
    /// remediate_apply. Recorded in the remediation history as a dry run.
    #[tool(annotations(
        title = "Plan a remediation",
        read_only_hint = false,
        destructive_hint = false,
        open_world_hint = true
    ))]
    async fn remediate_plan(
        &self,
        peer: Peer<RoleServer>,
        Parameters(a): Parameters<RemediateArgs>,
    ) -> CallToolResult {
        let mut a = a;
        a.env = self.default_env(a.env);
        if let Err(e) = self.env_allowed(&a.env) {
            return tool_error(&e);
        }
        let mut argv = a.argv();
        argv.push("--dry-run".into());
        let ran = match self.remediation(&peer, argv).await {
            Ok(r) => r,
            Err(e) => return tool_error(&e),
        };
        let plan = ran.captured.json.clone().unwrap_or(Value::Null);
        // never_auto needs no check here: the use case refuses it at the dry run.
        let id = plan_id();
        self.plans.lock().expect("plans lock").insert(
            id.clone(),
            StoredPlan {
                args: a,
                plan,
                made: Instant::now(),
            },
        );
        let expires =
            chrono::Utc::now() + chrono::Duration::from_std(self.plan_ttl).unwrap_or_default();
        let mut r = tool_result(ran, Some(("plan_id", json!(id))));
        if let Some(o) = r.structured_content.as_mut().and_then(Value::as_object_mut) {
            o.insert(
                "plan_expires_at".into(),
                json!(helm_core::clock::rfc3339(expires)),
            );
        }
        r
    }

    /// Apply a plan remediate_plan made, and only that plan, under the same policy: an
    /// auto action where the environment needs no confirmation applies; one that needs
    /// confirmation asks the person (they type the resource id); never_auto, an expired
    /// plan or a resource changed since the plan is refused. Verified and recorded.
    #[tool(annotations(
        title = "Apply a remediation plan",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    async fn remediate_apply(
        &self,
        peer: Peer<RoleServer>,
        Parameters(a): Parameters<ApplyArgs>,
    ) -> CallToolResult {
        let stored = self.plans.lock().expect("plans lock").remove(&a.plan_id);
        let Some(stored) = stored else {
            return tool_error(
                &CliError::new(EXIT_NOINPUT, format!("no plan {}", a.plan_id))
                    .hint("make one with remediate_plan (a plan is used once)"),
            );
        };
        if stored.made.elapsed() > self.plan_ttl {
            return tool_error(
                &CliError::new(
                    EXIT_REFUSED,
                    format!(
                        "plan {} expired ({} after it was made)",
                        a.plan_id,
                        helm_core::config::duration::format(self.plan_ttl)
                    ),
                )
                .hint("make a new plan with remediate_plan"),
            );
        }
        // The resource as it is now, against the plan the agent saw.
        let mut again = stored.args.argv();
        again.push("--dry-run".into());
        let now = match self.remediation(&peer, again).await {
            Ok(r) => r.captured.json.unwrap_or(Value::Null),
            Err(e) => return tool_error(&e),
        };
        if now["plan"] != stored.plan["plan"] || now["policy"] != stored.plan["policy"] {
            return tool_error(
                &CliError::new(
                    EXIT_REFUSED,
                    format!(
                        "{} changed since plan {} was made; nothing applied",
                        stored.plan["target"]["id"]
                            .as_str()
                            .unwrap_or("the resource"),
                        a.plan_id
                    ),
                )
                .hint("make a new plan with remediate_plan and review it"),
            );
        }
        match self.remediation(&peer, stored.args.argv()).await {
            Ok(ran) => tool_result(ran, Some(("plan_id", json!(a.plan_id)))),
            Err(e) => tool_error(&e),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for HelmMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("helm-cloud", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "helm-cloud operates the AWS infrastructure faber-cloud deployed: health, SLOs, \
                 logs, investigations, audits, issues and remediation. UNKNOWN means not checked, \
                 never healthy. Remediation: remediate_plan, show the plan to the person, then \
                 remediate_apply with its plan_id; what needs confirmation asks the person.",
            )
    }
}

static PLANS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A plan id no one can guess from the last one (the process's random hash keys).
fn plan_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let n = PLANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let part = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(salt);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        h.finish()
    };
    format!("plan-{:016x}{:016x}", part(1), part(2))
}

/// Serve MCP on stdin/stdout until the client closes stdin. Logs go to stderr only.
pub async fn serve(global: GlobalOpts, only_env: Option<String>, plan_ttl: Duration) -> CliResult {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // stdio through pipes of our own: rmcp's stdio transport needs a tokio feature that
    // would rebuild every AWS SDK crate.
    let (ours, theirs) = tokio::io::duplex(1 << 16);
    let (mut from_server, mut to_server) = tokio::io::split(ours);
    let handle = tokio::runtime::Handle::current();
    let h = handle.clone();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if h.block_on(to_server.write_all(&buf[..n])).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = h.block_on(to_server.shutdown());
    });
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match handle.block_on(from_server.read(&mut buf)) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if stdout
                        .write_all(&buf[..n])
                        .and_then(|_| stdout.flush())
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    let server = HelmMcp::new(global, only_env, plan_ttl);
    let running = server
        .serve(theirs)
        .await
        .map_err(|e| CliError::new(EXIT_SOFTWARE, format!("starting the MCP server: {e}")))?;
    let _ = running.waiting().await;
    drop(writer);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> GlobalOpts {
        Cli::try_parse_from(["helm-cloud", "status"])
            .unwrap()
            .global
    }

    #[test]
    fn a_remediation_becomes_its_command_line() {
        let a = RemediateArgs {
            description: Some("restart the api lambda".into()),
            service: Some("api".into()),
            value: Some(-1),
            env: Some("prod".into()),
            ..Default::default()
        };
        assert_eq!(
            a.argv(),
            [
                "remediate",
                "restart the api lambda",
                "--service",
                "api",
                "--value",
                "-1",
                "--env",
                "prod"
            ]
        );
        // Parsed by the CLI's own parser, negative values and words included.
        let mut argv = vec!["helm-cloud".to_string()];
        argv.extend(a.argv());
        assert!(Cli::try_parse_from(argv).is_ok());
    }

    #[test]
    fn a_server_for_one_environment_refuses_the_others_and_defaults_to_it() {
        let s = HelmMcp::new(global(), Some("test".into()), Duration::from_secs(600));
        assert!(s.env_allowed(&Some("test".into())).is_ok());
        assert!(s.env_allowed(&None).is_ok());
        let e = s.env_allowed(&Some("prod".into())).unwrap_err();
        assert_eq!(e.code, EXIT_REFUSED);
        assert_eq!(s.default_env(None), Some("test".into()));
        let any = HelmMcp::new(global(), None, Duration::from_secs(600));
        assert!(any.env_allowed(&Some("prod".into())).is_ok());
    }

    #[test]
    fn plan_ids_are_not_guessable_from_each_other() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| plan_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|i| i.len() == "plan-".len() + 32));
    }

    #[test]
    fn a_tool_error_carries_the_clis_error_document() {
        let e = CliError::new(EXIT_REFUSED, "no").hint("do this");
        let r = tool_error(&e);
        assert_eq!(r.is_error, Some(true));
        assert_eq!(r.structured_content, Some(e.to_json()));
    }
}
