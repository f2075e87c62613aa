//! The `audit` use case: run the asked types (cost, security, compliance), order the
//! findings, build the plugin's audit_data report, open or resolve issues per type, and save
//! the report. When nothing could be evaluated because AWS could not be used, it says so
//! with the failure's kind instead of a report (never a pass).

use super::run::{self, CostRun, Part, Scoped};
use super::{Coverage, Evaluation, Finding, Severity, audit_data, markdown, type_of_check};
use crate::clock::{file_stamp, rfc3339};
use crate::error::CaseError;
use crate::issues::{self, Detection, Evaluated, IssueStore};
use crate::monitor::check::Target;
use crate::ports::{AccountFacts, ComplianceFacts, CostFacts, Failure, FailureKind, Observer};
use crate::registry::EnvironmentView;
use crate::resource::ResourceKind;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// The audit types, in the order `all` runs them.
pub const TYPES: [&str; 3] = ["cost", "security", "compliance"];

/// What an audit looks at.
pub struct AuditRequest<'a> {
    /// `cost`, `security`, `compliance` or `all`.
    pub kind: &'a str,
    pub view: &'a EnvironmentView,
    /// The monitored resources, each with its region.
    pub targets: &'a [Target],
    /// `region_of(the ARN's region)`: the region a resource is audited in.
    pub region_of: &'a dyn Fn(Option<&str>) -> String,
    pub timeframe: &'a str,
    /// A budget overrun in an environment that asks before every change is critical.
    pub requires_confirmation: bool,
    pub cost: CostRun<'a>,
    /// Findings the team accepted (audit-suppressions.toml).
    pub suppressions: &'a super::suppress::Suppressions,
    /// `--scope account`: sweep every resource of these regions as well (None: the
    /// registry's resources only).
    pub account_regions: Option<&'a [String]>,
    /// `--framework cis-3.0|fsbp`: the compliance view of that framework (the security
    /// checks run as well, since most controls are decided by them).
    pub framework: Option<&'a str>,
}

/// What an audit produced.
#[derive(Debug)]
pub enum AuditOutcome {
    /// The report (saved), its findings in order, and the exit code it gives a CI job.
    Report {
        data: Value,
        findings: Vec<Finding>,
        code: u8,
    },
    /// Nothing was evaluated because AWS could not be used: the kind of failure, and one
    /// line saying the first reason (and how many more).
    NothingEvaluated {
        failure: FailureKind,
        message: String,
    },
}

/// The regions of the environment's resources (the default region when there are none);
/// CloudFront is global and adds none.
pub fn regions(view: &EnvironmentView, region_of: &dyn Fn(Option<&str>) -> String) -> Vec<String> {
    let mut r: Vec<String> = view
        .resources
        .iter()
        .filter(|x| x.kind != Some(ResourceKind::CloudFront))
        .map(|x| region_of(x.region.as_deref()))
        .collect();
    if r.is_empty() {
        r.push(region_of(None));
    }
    r.sort();
    r.dedup();
    r
}

/// The issue a finding opens, when it opens one: critical findings and budget overruns.
fn detection(f: &Finding, env: &str, requires_confirmation: bool) -> Option<Detection> {
    let opens = f.severity == Severity::Critical
        || matches!(f.check.as_str(), "cost.daily_budget" | "cost.forecast");
    opens.then(|| Detection {
        account: issues::split_account(&f.resource).0.map(str::to_string),
        environment: env.into(),
        resource: f.resource.clone(),
        check: f.check.clone(),
        severity: match f.severity {
            Severity::Critical => issues::Severity::Critical,
            Severity::High if requires_confirmation => issues::Severity::Critical,
            Severity::High => issues::Severity::High,
            _ => issues::Severity::Medium,
        },
        title: f.title.clone(),
        description: f.detail.clone(),
        slo_breach: false,
        metrics: json!({"check": f.check}),
    })
}

/// One account an audit reads, in an environment that may span accounts.
pub struct Member<'a, W> {
    /// None: the project's own credentials (its resources and those of accounts not
    /// listed); `Some(id)` a listed account, its findings named `<id>:<resource>`.
    pub account: Option<&'a str>,
    /// The account's facts, or why it could not be reached (its role not assumed).
    pub world: Result<&'a W, &'a Failure>,
    /// Where its account sweep goes (`accounts[].regions`; empty: the request's regions).
    pub regions: &'a [String],
}

impl<'a, W> Member<'a, W> {
    /// The project's own account alone (an environment that lists no accounts).
    pub fn only(world: &'a W) -> [Member<'a, W>; 1] {
        [Member {
            account: None,
            world: Ok(world),
            regions: &[],
        }]
    }
}

/// Run the audit of `req` over `members` (one, or the environment's accounts), sync its
/// issues in `store` and save the report under `dir` (`shown` gives the path as the user
/// sees it). An account that could not be reached evaluates nothing and says so; the
/// others are judged, each check's evidence within its own account.
pub async fn audit<W: CostFacts + ComplianceFacts + AccountFacts + Observer>(
    members: &[Member<'_, W>],
    req: &AuditRequest<'_>,
    store: &IssueStore,
    dir: &Path,
    shown: &dyn Fn(&Path) -> String,
) -> Result<AuditOutcome, CaseError> {
    let started = std::time::Instant::now();
    let (kind, env, now) = (req.kind, req.view.environment.as_str(), req.cost.now);
    let kinds: Vec<&str> = if kind == "all" {
        TYPES.to_vec()
    } else if req.framework.is_some() && kind == "compliance" {
        vec!["security", "compliance"]
    } else {
        vec![kind]
    };
    if let Some(other) = kinds.iter().find(|k| !TYPES.contains(k)) {
        return Err(crate::Error::usage(
            format!("no audit type {other:?}"),
            Some("cost, security, compliance or all".into()),
        )
        .into());
    }
    let spans = members.iter().any(|m| m.account.is_some());
    // The member a resource of `account` is read through: its listed account, or home.
    fn owner<'x, W>(members: &[Member<'_, W>], account: Option<&'x str>) -> Option<&'x str> {
        account.filter(|a| members.iter().any(|m| m.account == Some(*a)))
    }
    let mut regions = regions(req.view, req.region_of);
    let mut findings = Vec::new();
    let mut metrics = Map::new();
    let mut parts: Vec<(&str, Evaluated)> = Vec::new();
    let mut not_evaluated: Vec<String> = Vec::new();
    let mut failures: Vec<FailureKind> = Vec::new();
    let mut accounts_seen: Vec<Value> = Vec::new();
    for k in &kinds {
        let mut merged = Part::new();
        let mut by_account = Map::new();
        for m in members {
            let view: Vec<&crate::registry::Resource> = req
                .view
                .resources
                .iter()
                .filter(|r| !spans || owner(members, r.account()) == m.account)
                .collect();
            // The project's own account is audited in an environment that spans accounts
            // only when some of the environment's resources are read through it.
            if spans && m.account.is_none() && view.is_empty() {
                continue;
            }
            let label = m.account.unwrap_or("home");
            let mut part = match m.world {
                Err(f) => {
                    let mut p = Part::new();
                    p.not_evaluated
                        .push(format!("every check: account not reachable: {}", f.brief));
                    p.failures.push(f.kind);
                    p
                }
                Ok(world) => {
                    let targets: Vec<Target> = req
                        .targets
                        .iter()
                        .filter(|t| !spans || owner(members, t.account()) == m.account)
                        .cloned()
                        .collect();
                    let mut mine: Vec<String> = view
                        .iter()
                        .filter(|x| x.kind != Some(ResourceKind::CloudFront))
                        .map(|x| (req.region_of)(x.region.as_deref()))
                        .collect();
                    if mine.is_empty() {
                        match m.regions.first() {
                            Some(r) if spans => mine.push(r.clone()),
                            _ => mine.push((req.region_of)(None)),
                        }
                    }
                    mine.sort();
                    mine.dedup();
                    let swept = req.account_regions.map(|r| {
                        if spans && !m.regions.is_empty() {
                            m.regions
                        } else {
                            r
                        }
                    });
                    run_kind(k, world, req, &view, &targets, &mine, swept, m.account).await?
                }
            };
            if !spans {
                merged = part;
                break;
            }
            // Within an account: its findings named in it, its evidence judged in it.
            for f in part.findings.iter_mut() {
                f.resource = issues::with_account(m.account, &f.resource);
            }
            let who = match m.account {
                Some(a) => format!("account {a}"),
                None => "the project's own account".to_string(),
            };
            if let Some(s) = req.account_regions.filter(|_| !m.regions.is_empty()) {
                regions.extend(s.iter().cloned());
            }
            merged.findings.extend(part.findings);
            merged
                .not_evaluated
                .extend(part.not_evaluated.iter().map(|n| format!("{who}: {n}")));
            merged.failures.extend(part.failures);
            merged
                .evaluated
                .extend(part.evaluated.within_account(m.account));
            if *k == kinds[0] {
                accounts_seen.push(match m.world {
                    Ok(_) => json!({"account": label, "reached": true}),
                    Err(f) => json!({"account": label, "reached": false, "reason": f.brief}),
                });
            }
            by_account.insert(label.to_string(), std::mem::take(&mut part.metrics));
        }
        if spans {
            merged.metrics = sum_metrics(&by_account);
            merged.metrics["by_account"] = Value::Object(by_account);
        }
        findings.extend(merged.findings);
        metrics.insert(k.to_string(), merged.metrics);
        not_evaluated.extend(merged.not_evaluated.iter().map(|n| format!("{k}: {n}")));
        failures.extend(merged.failures);
        parts.push((k, merged.evaluated));
    }
    // Suppressed findings are listed, not counted: no exit code, no issue opened or resolved.
    let (kept, suppressed, suppression_warnings) =
        req.suppressions.apply(findings, now.date_naive());
    let mut findings = kept;
    for (_, e) in parts.iter_mut() {
        for h in &suppressed {
            e.exclude(&h.finding.resource, &h.finding.check);
        }
    }
    let coverage = Coverage::of(parts.iter().any(|(_, e)| !e.is_empty()), &not_evaluated);
    // Nothing evaluated because AWS could not be used at all, every failure of one kind:
    // say why rather than write a report of nothing.
    if coverage == Coverage::None
        && let Some(&first) = failures.first()
        && failures.iter().all(|k| same_exit(*k, first))
    {
        let more = match not_evaluated.len() {
            0 | 1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Ok(AuditOutcome::NothingEvaluated {
            failure: first,
            message: format!(
                "audit --type {kind} evaluated nothing: {}{more}",
                not_evaluated.first().cloned().unwrap_or_default()
            ),
        });
    }
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(
            b.monthly_savings_usd
                .unwrap_or(0.0)
                .total_cmp(&a.monthly_savings_usd.unwrap_or(0.0)),
        )
    });
    let metrics = if kinds.len() == 1 {
        metrics.remove(kinds[0]).unwrap_or(Value::Null)
    } else if kind != "all" {
        // --framework: the asked type's metrics, the others' beside them.
        let mut m = metrics.remove(kind).unwrap_or(Value::Null);
        for (k, v) in metrics {
            m[k] = v;
        }
        m
    } else {
        Value::Object(metrics)
    };
    let recommendations: Vec<String> = findings
        .iter()
        .take(10)
        .map(|f| format!("{} ({}): {}", f.title, f.resource, f.recommendation))
        .collect();
    // A suppressed check did not pass either.
    let failed: Vec<(String, String)> = findings
        .iter()
        .chain(suppressed.iter().map(|h| &h.finding))
        .map(|f| (f.resource.clone(), f.check.clone()))
        .collect();
    let mut data = audit_data(
        kind,
        env,
        &rfc3339(now),
        req.timeframe,
        &findings,
        metrics,
        &recommendations,
        &Evaluation {
            coverage,
            not_evaluated,
            passing: parts.iter().map(|(_, e)| e.passing(&failed)).sum(),
        },
    );
    // Each finding with its catalogue entry: control ids, permissions, remediation steps.
    for sev in ["critical", "high", "medium", "low"] {
        for f in data["findings"]["by_severity"][sev]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if let Some(account) = f["resource"]
                .as_str()
                .and_then(|r| issues::split_account(r).0)
            {
                f["account"] = json!(account);
            }
            if let Some(extra) = f["check"].as_str().and_then(super::catalogue::annotation)
                && let (Value::Object(f), Value::Object(extra)) = (f, extra)
            {
                f.extend(extra);
            }
        }
    }
    // What this run looked at, so a later `audit diff` can tell resolved from not looked at.
    let mut audited_regions: Vec<String> = regions.clone();
    audited_regions.extend(req.account_regions.into_iter().flatten().cloned());
    audited_regions.sort();
    audited_regions.dedup();
    data["audit"]["regions"] = json!(audited_regions);
    let evaluated_anywhere = |c: &str| parts.iter().any(|(_, e)| e.mentions(c));
    let mut checks_evaluated: Vec<String> = super::catalogue::CATALOGUE
        .iter()
        .map(|c| c.id.to_string())
        .chain(
            super::compliance::CONTROLS
                .iter()
                .map(|c| format!("cis.{}", c.0)),
        )
        .filter(|c| evaluated_anywhere(c))
        .collect();
    checks_evaluated.sort();
    data["checks_evaluated"] = json!(checks_evaluated);
    if let Some(name) = req.framework {
        let ne: Vec<String> = data["summary"]["not_evaluated"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        data["framework"] = super::framework::evaluate(
            name,
            &super::framework::Evidence {
                failed: &failed
                    .iter()
                    .map(|(r, c)| (c.clone(), r.clone()))
                    .collect::<Vec<_>>(),
                evaluated: &evaluated_anywhere,
                not_evaluated: &ne,
                account_scope: req.account_regions.is_some(),
            },
        )
        .ok_or_else(|| {
            crate::Error::usage(
                format!("no framework {name:?}"),
                Some("cis-3.0 or fsbp".into()),
            )
        })?;
    }
    if spans {
        data["audit"]["accounts"] = json!(accounts_seen);
    }
    data["audit"]["scope"] = json!(if req.account_regions.is_some() {
        "account"
    } else {
        "registry"
    });
    // The plugin's ops-auditor `audit` block.
    data["audit"]["check_type"] = json!(kind);
    data["audit"]["duration_seconds"] =
        json!((started.elapsed().as_secs_f64() * 100.0).round() / 100.0);
    data["audit"]["auditor"] =
        json!({"plugin": "fractary-helm-cloud", "skill": "ops-auditor", "tool": "helm-cloud"});
    data["audit"]["audit_id"] = json!(format!("{}-{kind}", file_stamp(now)));

    // Each audit type is its own source: a cost audit never touches a security issue, and
    // an issue resolves only when its check was evaluated in this run and passed.
    let detections: Vec<Detection> = findings
        .iter()
        .filter_map(|f| detection(f, env, req.requires_confirmation))
        .collect();
    let mut issue_refs = Vec::new();
    for (k, evaluated) in &parts {
        let mine: Vec<Detection> = detections
            .iter()
            .filter(|d| type_of_check(&d.check) == *k)
            .cloned()
            .collect();
        let outcome = store.sync(env, &format!("audit:{k}"), &mine, evaluated, now)?;
        issue_refs.extend(
            outcome.issues.iter().map(
                |(fp, id, opened)| json!({"fingerprint": fp, "issue_id": id, "opened": opened}),
            ),
        );
        issue_refs.extend(
            outcome
                .resolved
                .iter()
                .map(|id| json!({"issue_id": id, "resolved": true})),
        );
    }
    data["issues"] = json!(issue_refs);
    data["suppressed"] = json!(suppressed);
    data["summary"]["suppressed"] = json!(suppressed.len());
    if !suppression_warnings.is_empty() {
        data["warnings"] = json!(suppression_warnings);
    }
    let path = save(&mut data, dir, kind, now, shown)?;
    debug_assert!(path.exists());
    let code = data["summary"]["exit_code"].as_u64().unwrap_or(0) as u8;
    Ok(AuditOutcome::Report {
        data,
        findings,
        code,
    })
}

/// One audit type on one account's facts: `view` and `targets` are the resources read
/// through it, `regions` theirs, `swept` where `--scope account` sweeps.
#[allow(clippy::too_many_arguments)]
async fn run_kind<W: CostFacts + ComplianceFacts + AccountFacts + Observer>(
    kind: &str,
    world: &W,
    req: &AuditRequest<'_>,
    view: &[&crate::registry::Resource],
    targets: &[Target],
    regions: &[String],
    swept: Option<&[String]>,
    account: Option<&str>,
) -> Result<Part, CaseError> {
    Ok(match kind {
        "cost" => {
            let c = &req.cost;
            // Cost Explorer answers per account: each its own cache.
            let run = CostRun {
                environment: c.environment,
                now: c.now,
                span: c.span,
                scope: match account {
                    Some(a) => format!("{}|{a}", c.scope),
                    None => c.scope.clone(),
                },
                cache_root: c.cache_root.clone(),
                settings: c.settings,
            };
            run::cost(world, targets, &run).await?
        }
        "security" => {
            let scoped: Vec<Scoped> = view
                .iter()
                .map(|r| Scoped {
                    id: r.id.clone(),
                    name: r.name.clone(),
                    kind: r.kind,
                    region: (req.region_of)(r.region.as_deref()),
                    arn: r.arn.clone(),
                })
                .collect();
            let mut part = run::security(world, &scoped, regions).await;
            if let Some(swept) = swept {
                let acc = run::account(world, swept, req.cost.now).await;
                part.findings.extend(acc.findings);
                part.not_evaluated.extend(acc.not_evaluated);
                part.failures.extend(acc.failures);
                part.evaluated.extend(acc.evaluated);
                part.metrics["account_sweep"] = acc.metrics;
            }
            part
        }
        _ => run::compliance(world, regions).await,
    })
}

/// The accounts' metrics together: counts and amounts summed, scores the worst account's,
/// a flag set if any account set it, anything else as the first account gave it (each
/// account's own under `by_account`).
fn sum_metrics(by_account: &Map<String, Value>) -> Value {
    fn add(into: &mut Value, v: &Value) {
        match (into, v) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, x) in b {
                    match a.get_mut(k) {
                        Some(slot) if k.contains("score") && slot.is_number() => {
                            if x.as_f64().unwrap_or(f64::MAX) < slot.as_f64().unwrap_or(f64::MAX) {
                                *slot = x.clone();
                            }
                        }
                        Some(slot) => add(slot, x),
                        None => {
                            a.insert(k.clone(), x.clone());
                        }
                    }
                }
            }
            (slot @ Value::Bool(_), Value::Bool(b)) => {
                *slot = Value::Bool(slot.as_bool().unwrap_or(false) || *b);
            }
            (Value::Array(a), Value::Array(b)) => {
                for x in b {
                    if !a.contains(x) {
                        a.push(x.clone());
                    }
                }
            }
            (slot @ Value::Number(_), Value::Number(b)) => {
                let a = slot.as_f64().unwrap_or(0.0);
                *slot = match (slot.as_u64(), b.as_u64()) {
                    (Some(x), Some(y)) => json!(x + y),
                    _ => json!(a + b.as_f64().unwrap_or(0.0)),
                };
            }
            _ => {}
        }
    }
    let mut total = json!({});
    for v in by_account.values() {
        add(&mut total, v);
    }
    total
}

/// Two failure kinds a front end reports the same way (an unreachable and a refused call
/// both mean AWS could not be used).
fn same_exit(a: FailureKind, b: FailureKind) -> bool {
    let class = |k: FailureKind| match k {
        FailureKind::Unavailable | FailureKind::Rejected => 0,
        FailureKind::PermissionDenied => 1,
        FailureKind::NotFound => 2,
    };
    class(a) == class(b)
}

/// Save the report as `<stamp>-<kind>.json` and `.md` under `dir`, never replacing one.
fn save(
    data: &mut Value,
    dir: &Path,
    kind: &str,
    now: chrono::DateTime<chrono::Utc>,
    shown: &dyn Fn(&Path) -> String,
) -> crate::Result<PathBuf> {
    let json_path = crate::fsutil::reserve_unique(dir, &file_stamp(now), &format!("-{kind}.json"))?;
    data["report_path"] = json!(shown(&json_path));
    crate::fsutil::write_reserved(
        &json_path,
        (serde_json::to_string_pretty(data).expect("JSON") + "\n").as_bytes(),
    )?;
    crate::fsutil::write_atomic(&json_path.with_extension("md"), markdown(data).as_bytes())?;
    Ok(json_path)
}

#[cfg(test)]
mod tests {
    //! The audit pipeline on a world where every read fails the same way.
    use super::*;
    use crate::auditor::compliance::RuleCompliance;
    use crate::auditor::security::{BucketFacts, HubFinding, LambdaFacts, OpenRule, PolicyFacts};
    use crate::monitor::check::HealthOptions;
    use crate::monitor::{Observation, StatusObs};
    use crate::ports::*;
    use crate::registry::Registry;
    use chrono::{DateTime, Utc};
    use futures::executor::block_on;

    /// Every call fails with `kind`.
    struct Down(FailureKind);

    impl Down {
        #[allow(clippy::result_large_err)]
        fn fail<T>(&self, api: &str) -> Result<T, Failure> {
            Err(crate::testing::failure(api, self.0))
        }
    }

    impl SecurityFacts for Down {
        async fn open_ingress(&self, _r: &str) -> Result<Vec<OpenRule>, Failure> {
            self.fail("ec2:DescribeSecurityGroups")
        }
        async fn bucket_facts(&self, _r: &str, _i: &str, _n: &str) -> Result<BucketFacts, Failure> {
            self.fail("s3:GetBucketPolicyStatus")
        }
        async fn db_instances(&self, _r: &str) -> Result<Vec<(String, bool, bool)>, Failure> {
            self.fail("rds:DescribeDBInstances")
        }
        async fn lambda_security(
            &self,
            _r: &str,
            _i: &str,
            _n: &str,
        ) -> Result<LambdaFacts, Failure> {
            self.fail("lambda:GetPolicy")
        }
        async fn customer_policies(&self) -> Result<Vec<PolicyFacts>, Failure> {
            self.fail("iam:ListPolicies")
        }
        async fn kind_security(
            &self,
            _k: crate::resource::ResourceKind,
            _r: &str,
            _i: &str,
            _n: &str,
            _a: &str,
        ) -> Result<crate::auditor::security::KindFacts, Failure> {
            self.fail("kinesis:DescribeStreamSummary")
        }
        async fn security_hub_findings(&self, _r: &str) -> Result<Vec<HubFinding>, Failure> {
            self.fail("securityhub:GetFindings")
        }
    }

    impl ComplianceFacts for Down {
        async fn password_min_length(&self) -> Result<Option<i32>, Failure> {
            self.fail("iam:GetAccountPasswordPolicy")
        }
        async fn root_account(&self) -> Result<(bool, bool), Failure> {
            self.fail("iam:GetAccountSummary")
        }
        async fn logging_multi_region_trails(&self, _r: &str) -> Result<Vec<String>, Failure> {
            self.fail("cloudtrail:DescribeTrails")
        }
        async fn account_id(&self) -> Result<String, Failure> {
            self.fail("sts:GetCallerIdentity")
        }
        async fn account_public_access_block(
            &self,
            _r: &str,
            _a: &str,
        ) -> Result<Option<bool>, Failure> {
            self.fail("s3control:GetPublicAccessBlock")
        }
        async fn ebs_default_encryption(&self, _r: &str) -> Result<bool, Failure> {
            self.fail("ec2:GetEbsEncryptionByDefault")
        }
        async fn vpcs_without_flow_logs(&self, _r: &str) -> Result<(usize, Vec<String>), Failure> {
            self.fail("ec2:DescribeVpcs")
        }
        async fn config_recording(&self, _r: &str) -> Result<bool, Failure> {
            self.fail("config:DescribeConfigurationRecorderStatus")
        }
        async fn config_rule_compliance(&self, _r: &str) -> Result<Vec<RuleCompliance>, Failure> {
            self.fail("config:DescribeComplianceByConfigRule")
        }
    }

    impl AccountFacts for Down {
        async fn region_sweep(&self, region: &str) -> crate::auditor::account::RegionSweep {
            let f = |api: &str| crate::testing::failure(api, self.0);
            crate::auditor::account::RegionSweep {
                region: region.into(),
                volumes: Err(f("ec2:DescribeVolumes")),
                snapshots: Err(f("ec2:DescribeSnapshots")),
                databases: Err(f("rds:DescribeDBInstances")),
                db_snapshots: Err(f("rds:DescribeDBSnapshots")),
                keys: Err(f("kms:ListKeys")),
                log_groups: Err(f("logs:DescribeLogGroups")),
                guardduty: Err(f("guardduty:ListDetectors")),
                functions: Err(f("lambda:ListFunctions")),
                task_definitions: Err(f("ecs:ListTaskDefinitions")),
                secrets: Err(f("secretsmanager:ListSecrets")),
                security_hub: Err(f("securityhub:DescribeHub")),
                groups: Err(f("ec2:DescribeSecurityGroups")),
                nacls: Err(f("ec2:DescribeNetworkAcls")),
            }
        }
        async fn account_wide(&self, _region: &str) -> crate::auditor::account::AccountWide {
            let f = |api: &str| crate::testing::failure(api, self.0);
            crate::auditor::account::AccountWide {
                credentials: Err(f("iam:GetCredentialReport")),
                principals: Err(f("iam:GetAccountAuthorizationDetails")),
                password_policy: Err(f("iam:GetAccountPasswordPolicy")),
                server_certs: Err(f("iam:ListServerCertificates")),
                buckets: Err(f("s3:ListBuckets")),
                trails: Err(f("cloudtrail:DescribeTrails")),
            }
        }
    }

    impl LogSource for Down {
        async fn filter_events(
            &self,
            _r: &str,
            _g: &str,
            _s: i64,
            _e: i64,
            _p: Option<&str>,
            _each: &mut dyn FnMut(LogEvent) -> bool,
        ) -> Result<LogSweep, Failure> {
            self.fail("logs:FilterLogEvents")
        }
        async fn ecs_log_groups(
            &self,
            _r: &str,
            _c: &str,
            _s: &str,
        ) -> Result<Vec<String>, Failure> {
            self.fail("ecs:DescribeServices")
        }
    }

    impl CostFacts for Down {
        async fn cost_and_usage(
            &self,
            _s: &str,
            _e: &str,
            _d: bool,
        ) -> Result<(Vec<CostPeriod>, u32), Failure> {
            self.fail("ce:GetCostAndUsage")
        }
        async fn db_classes(&self, _r: &str) -> Result<Vec<(String, String)>, Failure> {
            self.fail("rds:DescribeDBInstances")
        }
        async fn log_groups(&self, _r: &str, _p: &str) -> Result<Vec<LogGroupInfo>, Failure> {
            self.fail("logs:DescribeLogGroups")
        }
    }

    impl Observer for Down {
        async fn metric_data(
            &self,
            _r: &str,
            _q: &[MetricQuery],
            _s: DateTime<Utc>,
            _e: DateTime<Utc>,
        ) -> Result<Vec<MetricSeries>, Failure> {
            self.fail("cloudwatch:GetMetricData")
        }
        async fn observe(&self, t: &[Target], _o: &HealthOptions) -> Vec<Observation> {
            t.iter()
                .map(|_| Observation {
                    status: StatusObs::NotChecked,
                    metrics: Default::default(),
                    metrics_error: Some("endpoint unreachable".into()),
                    alarms: vec![],
                    alarms_error: None,
                    alarms_read: false,
                })
                .collect()
        }
        async fn detail_status(&self, _t: &Target, _e: &str) -> StatusObs {
            StatusObs::NotChecked
        }
    }

    fn run_with(world: &Down, kind: &str, dir: &Path) -> AuditOutcome {
        let text = r#"{"deployments": [{"id": "d", "environment": "test", "resources": [
            {"id": "api", "type": "lambda", "arn": "arn:aws:lambda:us-east-1:123456789012:function:api"},
            {"id": "site", "type": "s3_bucket", "arn": "arn:aws:s3:::site"}]}]}"#;
        let view = Registry::parse(Path::new("r.json"), text)
            .unwrap()
            .environment_view("test");
        let (targets, _) =
            crate::scope::targets(&view, None, |r| r.unwrap_or("us-east-1").into()).unwrap();
        let settings = crate::config::Monitoring::defaults().settings();
        let region_of = |r: Option<&str>| r.unwrap_or("us-east-1").to_string();
        let req = AuditRequest {
            suppressions: &super::super::suppress::Suppressions::default(),
            account_regions: Some(&["us-east-1".to_string()]),
            framework: None,
            kind,
            view: &view,
            targets: &targets,
            region_of: &region_of,
            timeframe: "30d",
            requires_confirmation: false,
            cost: CostRun {
                environment: "test",
                now: crate::clock::parse_rfc3339("2025-11-03T20:00:00Z").unwrap(),
                span: std::time::Duration::from_secs(30 * 86_400),
                scope: "test".into(),
                cache_root: dir.join("cache"),
                settings: &settings,
            },
        };
        let store = IssueStore::new(dir, "a/", "r/", "infrastructure", 90);
        block_on(audit(
            &Member::only(world),
            &req,
            &store,
            &dir.join("audits"),
            &|p| p.display().to_string(),
        ))
        .unwrap()
    }

    #[test]
    fn an_account_that_cannot_be_read_is_nothing_evaluated_with_its_kind_and_no_report() {
        for (kind, types) in [
            (
                FailureKind::PermissionDenied,
                ["security", "compliance", "all"],
            ),
            (FailureKind::Unavailable, ["security", "compliance", "all"]),
        ] {
            for t in types {
                let dir = tempfile::tempdir().unwrap();
                match run_with(&Down(kind), t, dir.path()) {
                    AuditOutcome::NothingEvaluated { failure, message } => {
                        assert_eq!(failure, kind);
                        assert!(
                            message.starts_with(&format!("audit --type {t} evaluated nothing: ")),
                            "{message}"
                        );
                    }
                    other => panic!("{t}: {other:?}"),
                }
                assert!(
                    !dir.path().join("audits").exists(),
                    "a report of nothing was saved"
                );
            }
        }
    }

    #[test]
    fn an_unknown_type_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"{"deployments": []}"#;
        let view = Registry::parse(Path::new("r.json"), text)
            .unwrap()
            .environment_view("test");
        let settings = crate::config::Monitoring::defaults().settings();
        let req = AuditRequest {
            suppressions: &super::super::suppress::Suppressions::default(),
            account_regions: None,
            framework: None,
            kind: "vibes",
            view: &view,
            targets: &[],
            region_of: &|_| "us-east-1".to_string(),
            timeframe: "30d",
            requires_confirmation: false,
            cost: CostRun {
                environment: "test",
                now: chrono::Utc::now(),
                span: std::time::Duration::from_secs(86_400),
                scope: "t".into(),
                cache_root: dir.path().join("c"),
                settings: &settings,
            },
        };
        let store = IssueStore::new(dir.path(), "a/", "r/", "infrastructure", 90);
        let r = block_on(audit(
            &Member::only(&Down(FailureKind::Unavailable)),
            &req,
            &store,
            dir.path(),
            &|p| p.display().to_string(),
        ));
        assert!(matches!(r, Err(CaseError::Domain(_))));
    }
}
