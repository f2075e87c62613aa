//! The audit use cases: each audit type reads the account through a port and returns a
//! [`Part`]: its findings, its metrics, what it evaluated (the evidence issues resolve on)
//! and, one line each, what it could not: cost, security and compliance.

use super::Finding;
use super::security as sec;
use crate::fsutil;
use crate::issues::Evaluated;
use crate::monitor::StatusObs;
use crate::monitor::check::{HealthOptions, Target};
use crate::ports::{
    ComplianceFacts, CostFacts, CostPeriod, Failure, FailureKind, Observer, SecurityFacts,
};
use crate::resource::ResourceKind;
use serde_json::{Map, Value, json};

/// What one kind of audit found, and what it could and could not evaluate.
#[derive(Debug, Default)]
pub struct Part {
    pub findings: Vec<Finding>,
    pub metrics: Value,
    /// The checks that ran and were judged: the evidence an issue needs to resolve.
    pub evaluated: Evaluated,
    /// One line each, in the operator's words.
    pub not_evaluated: Vec<String>,
    /// The kinds of the failures behind `not_evaluated`.
    pub failures: Vec<FailureKind>,
}

impl Part {
    pub fn new() -> Part {
        Part::default()
    }

    /// `what` could not be evaluated because of `e` (in `region`, when it is regional).
    pub fn missed(&mut self, what: &str, region: Option<&str>, e: &Failure) {
        let place = region.map(|r| format!(" in {r}")).unwrap_or_default();
        let line = format!("{what}{place}: {}", e.cause);
        if !self.not_evaluated.contains(&line) {
            self.not_evaluated.push(line);
        }
        self.failures.push(e.kind);
    }
}

/// A registry resource as an audit scopes it.
#[derive(Debug, Clone)]
pub struct Scoped {
    pub id: String,
    /// The name used in API calls.
    pub name: String,
    pub kind: Option<ResourceKind>,
    pub region: String,
    pub arn: String,
}

/// The security audit: security groups in `regions`, the registry's buckets, databases and
/// functions, the account's customer-managed policies, and Security Hub where it is on.
pub async fn security<F: SecurityFacts>(
    facts: &F,
    resources: &[Scoped],
    regions: &[String],
) -> Part {
    let mut part = Part::new();
    let mut findings = Vec::new();
    let mut checked = Map::new();
    // A group's issue resolves only when every region was read: the issue does not say
    // which region the group is in.
    let mut open = Vec::new();
    let mut all_regions = true;
    for r in regions {
        match facts.open_ingress(r).await {
            Ok(rules) => open.extend(rules),
            Err(e) => {
                part.missed("ec2:DescribeSecurityGroups", Some(r), &e);
                all_regions = false;
            }
        }
    }
    if all_regions {
        part.evaluated.add_everywhere("sg.");
    }
    findings.extend(sec::security_group_findings(&open));
    checked.insert("world_open_ingress_rules".into(), json!(open.len()));
    let mut rds_by_region: std::collections::HashMap<String, Vec<(String, bool, bool)>> =
        std::collections::HashMap::new();
    for res in resources {
        match res.kind {
            Some(ResourceKind::S3) => {
                match facts.bucket_facts(&res.region, &res.id, &res.name).await {
                    Ok(b) => {
                        for c in sec::BUCKET_CHECKS {
                            part.evaluated.add(&res.id, c);
                        }
                        findings.extend(sec::bucket_findings(&b))
                    }
                    Err(e) => part.missed(&format!("bucket {}", res.id), None, &e),
                }
            }
            Some(ResourceKind::Rds) => {
                if !rds_by_region.contains_key(&res.region) {
                    let got = facts.db_instances(&res.region).await;
                    if let Err(e) = &got {
                        part.missed("rds:DescribeDBInstances", Some(&res.region), e);
                    }
                    rds_by_region.insert(res.region.clone(), got.unwrap_or_default());
                }
                if let Some((_, public, encrypted)) =
                    rds_by_region[&res.region].iter().find(|d| d.0 == res.name)
                {
                    part.evaluated.add(&res.id, "rds.");
                    findings.extend(sec::rds_findings(&sec::RdsFacts {
                        id: res.id.clone(),
                        public: *public,
                        encrypted: *encrypted,
                    }));
                }
            }
            Some(ResourceKind::Lambda) => {
                match facts.lambda_security(&res.region, &res.id, &res.name).await {
                    Ok(l) => {
                        part.evaluated.add(&res.id, "lambda.");
                        findings.extend(sec::lambda_findings(&l))
                    }
                    Err(e) => part.missed(&format!("function {}", res.id), None, &e),
                }
            }
            Some(kind) if !sec::kind_checks(kind).is_empty() => {
                match facts
                    .kind_security(kind, &res.region, &res.id, &res.name, &res.arn)
                    .await
                {
                    Ok(f) => {
                        for c in sec::kind_checks(kind) {
                            part.evaluated.add(&res.id, c);
                        }
                        findings.extend(sec::kind_findings(&f))
                    }
                    Err(e) => part.missed(&format!("{kind} {}", res.id), None, &e),
                }
            }
            _ => {}
        }
    }
    match facts.customer_policies().await {
        Ok(policies) => {
            // Only the policy checks: the account sweep's iam.* checks read other things.
            part.evaluated.add_everywhere("iam.admin_wildcard");
            part.evaluated.add_everywhere("iam.service_wildcard");
            checked.insert("customer_managed_policies".into(), json!(policies.len()));
            for p in &policies {
                findings.extend(sec::policy_findings(p));
            }
        }
        Err(e) => part.missed("iam:ListPolicies", None, &e),
    }
    let mut hub = 0;
    let mut hub_all = true;
    for r in regions {
        match facts.security_hub_findings(r).await {
            Ok(all) => {
                let mapped = sec::hub_findings(&all);
                hub += mapped.len();
                findings.extend(mapped);
            }
            // Security Hub not enabled in the account is a fact about the account, not a
            // read that failed: its findings are none, and the report says so.
            // Nor is it evidence that a Security Hub finding went away (or that the hub
            // is on): its issues are left as they are.
            Err(e) if e.code.as_deref() == Some("InvalidAccessException") => {
                checked.insert(format!("security_hub_{r}"), json!("not enabled"));
                hub_all = false;
            }
            Err(e) => {
                part.missed("securityhub:GetFindings", Some(r), &e);
                hub_all = false;
            }
        }
    }
    if hub_all {
        part.evaluated.add_everywhere("securityhub.");
    }
    checked.insert("security_hub_findings".into(), json!(hub));
    // A score over what was read is not the account's score: marked partial, or absent
    // when nothing was read.
    let score = (!part.evaluated.is_empty()).then(|| sec::score(&findings));
    part.metrics = json!({"security_score": score, "score_partial": !part.not_evaluated.is_empty(),
                          "checked": checked, "not_evaluated": part.not_evaluated});
    part.findings = findings;
    part
}

/// The account sweep of `regions`, all regions at once: its findings, and a family whose
/// every region was read is evaluated everywhere (an issue on it may resolve).
pub async fn account<F: crate::ports::AccountFacts>(
    facts: &F,
    regions: &[String],
    now: chrono::DateTime<chrono::Utc>,
) -> Part {
    use super::account as acc;
    let home = regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".into());
    let (sweeps, wide) = futures::join!(
        futures::future::join_all(regions.iter().map(|r| facts.region_sweep(r))),
        facts.account_wide(&home)
    );
    let mut part = Part::new();
    let mut counts = Map::new();
    let mut unread: Vec<&str> = Vec::new();
    for s in &sweeps {
        part.findings.extend(acc::findings(s));
        // A region judges its own resources only: a later run over fewer regions must not
        // resolve the others' issues.
        for (checks, err) in acc::families(s) {
            match err {
                Some(e) => part.missed(&e.api, Some(&s.region), e),
                None => {
                    for c in checks {
                        part.evaluated.add_in_region(&s.region, c);
                    }
                }
            }
        }
        let n = |r: Result<usize, &Failure>| json!(r.ok());
        counts.insert(
            s.region.clone(),
            json!({
                "volumes": n(s.volumes.as_ref().map(Vec::len)),
                "snapshots": n(s.snapshots.as_ref().map(Vec::len)),
                "db_instances": n(s.databases.as_ref().map(Vec::len)),
                "db_snapshots": n(s.db_snapshots.as_ref().map(Vec::len)),
                "kms_keys": n(s.keys.as_ref().map(Vec::len)),
                "log_groups": n(s.log_groups.as_ref().map(Vec::len)),
                "functions": n(s.functions.as_ref().map(Vec::len)),
                "task_definitions": n(s.task_definitions.as_ref().map(Vec::len)),
                "secrets": n(s.secrets.as_ref().map(Vec::len)),
                "security_groups": n(s.groups.as_ref().map(Vec::len)),
                "network_acls": n(s.nacls.as_ref().map(Vec::len)),
                "guardduty_enabled": s.guardduty.as_ref().ok(),
                "security_hub_enabled": s.security_hub.as_ref().ok(),
            }),
        );
    }
    for (checks, err) in acc::wide_families(&wide) {
        if let Some(e) = err {
            part.missed(&e.api, None, e);
            unread.extend(checks.iter().copied());
        }
    }
    let (found, undecided) = acc::wide_findings(&wide, now);
    part.findings.extend(found);
    for (check, why) in undecided {
        let line = format!("{check}: {why}");
        if !part.not_evaluated.contains(&line) {
            part.not_evaluated.push(line);
        }
        unread.push(check);
    }
    let n = |r: Result<usize, &Failure>| json!(r.ok());
    counts.insert(
        "account".into(),
        json!({
            "users": n(wide.credentials.as_ref().map(|c| c.users.len())),
            "principals": n(wide.principals.as_ref().map(Vec::len)),
            "server_certificates": n(wide.server_certs.as_ref().map(Vec::len)),
            "buckets": n(wide.buckets.as_ref().map(Vec::len)),
            "trails": n(wide.trails.as_ref().map(Vec::len)),
        }),
    );
    for c in acc::WIDE_FAMILIES.iter().flat_map(|f| f.iter().copied()) {
        if !unread.contains(&c) {
            part.evaluated.add_everywhere(c);
        }
    }
    part.metrics = json!({"regions": regions, "account_reads_from": home, "read": counts});
    part
}

/// The compliance audit: the CIS controls the APIs can decide, and AWS Config rules'
/// compliance where Config records. `regions` are the resources' regions (the first is
/// where the account-level reads go).
pub async fn compliance<F: ComplianceFacts>(facts: &F, regions: &[String]) -> Part {
    use super::compliance::{self as comp, Evidence};
    let region = regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".into());
    let failures: std::cell::RefCell<Vec<FailureKind>> = Default::default();
    let err = |e: Failure| -> Evidence {
        failures.borrow_mut().push(e.kind);
        Err(format!("{} in {region}: {}", e.api, e.cause))
    };
    let mut ev: Vec<(&str, Evidence)> = Vec::new();
    ev.push((
        "iam_password_policy",
        match facts.password_min_length().await {
            Ok(Some(n)) => Ok((n >= 14, format!("minimum length {n}"))),
            Ok(None) => Ok((false, "no password policy".into())),
            Err(e) => err(e),
        },
    ));
    match facts.root_account().await {
        Ok((mfa, keys)) => {
            ev.push((
                "root_mfa",
                Ok((
                    mfa,
                    if mfa {
                        "root MFA enabled".into()
                    } else {
                        "root MFA not enabled".into()
                    },
                )),
            ));
            ev.push((
                "root_access_keys",
                Ok((
                    !keys,
                    if keys {
                        "the root user has access keys".into()
                    } else {
                        "no root access keys".into()
                    },
                )),
            ));
        }
        Err(e) => {
            ev.push(("root_mfa", err(e.clone())));
            ev.push(("root_access_keys", err(e)));
        }
    }
    ev.push((
        "cloudtrail_multi_region",
        match facts.logging_multi_region_trails(&region).await {
            Ok(t) if !t.is_empty() => Ok((true, format!("logging: {}", t.join(", ")))),
            Ok(_) => Ok((false, "no multi-region trail is logging".into())),
            Err(e) => err(e),
        },
    ));
    ev.push((
        "s3_account_public_access_block",
        match facts.account_id().await {
            Ok(account) => match facts.account_public_access_block(&region, &account).await {
                Ok(Some(true)) => Ok((true, "all four settings on".into())),
                Ok(Some(false)) => Ok((false, "some settings off".into())),
                Ok(None) => Ok((false, "not configured".into())),
                Err(e) => err(e),
            },
            Err(e) => err(e),
        },
    ));
    let mut admin_open = Vec::new();
    let mut sg_error = None;
    for r in regions {
        match facts.open_ingress(r).await {
            Ok(rules) => admin_open.extend(
                rules
                    .into_iter()
                    .filter(|x| {
                        sec::security_group_findings(std::slice::from_ref(x))
                            .iter()
                            .any(|f| f.check == "sg.open_admin_port")
                    })
                    .map(|x| x.group_id),
            ),
            Err(e) => sg_error = Some(e),
        }
    }
    ev.push((
        "sg_admin_ports",
        match sg_error {
            Some(e) => err(e),
            None if admin_open.is_empty() => Ok((true, "no world-open 22 or 3389".into())),
            None => Ok((
                false,
                format!("open to the world on 22/3389: {}", admin_open.join(", ")),
            )),
        },
    ));
    ev.push((
        "ebs_default_encryption",
        match facts.ebs_default_encryption(&region).await {
            Ok(on) => Ok((on, format!("{region}: {}", if on { "on" } else { "off" }))),
            Err(e) => err(e),
        },
    ));
    ev.push((
        "vpc_flow_logs",
        match facts.vpcs_without_flow_logs(&region).await {
            Ok((n, missing)) if missing.is_empty() => {
                Ok((true, format!("{n} VPCs, all with flow logs")))
            }
            Ok((n, missing)) => Ok((
                false,
                format!(
                    "{} of {n} VPCs without flow logs: {}",
                    missing.len(),
                    missing.join(", ")
                ),
            )),
            Err(e) => err(e),
        },
    ));
    ev.push((
        "rds_storage_encryption",
        match facts.db_instances(&region).await {
            Ok(dbs) => {
                let plain: Vec<String> = dbs.iter().filter(|d| !d.2).map(|d| d.0.clone()).collect();
                Ok((
                    plain.is_empty(),
                    if plain.is_empty() {
                        format!("{} instances encrypted", dbs.len())
                    } else {
                        format!("unencrypted: {}", plain.join(", "))
                    },
                ))
            }
            Err(e) => err(e),
        },
    ));
    ev.push((
        "config_recording",
        match facts.config_recording(&region).await {
            Ok(on) => Ok((
                on,
                if on {
                    "recording".into()
                } else {
                    "no recorder is recording".into()
                },
            )),
            Err(e) => err(e),
        },
    ));
    let controls = comp::evaluate(&ev);
    let mut part = Part::new();
    part.failures = failures.into_inner();
    for c in &controls {
        if c.status == comp::Status::NotEvaluated {
            part.not_evaluated
                .push(format!("CIS {} {}: {}", c.cis, c.id, c.detail));
        } else {
            part.evaluated.add_everywhere(&format!("cis.{}", c.id));
        }
    }
    let mut findings = comp::findings(&controls);
    let rules = facts.config_rule_compliance(&region).await;
    let rules_json = match &rules {
        Ok(r) => {
            part.evaluated.add_everywhere("config.");
            findings.extend(comp::rule_findings(r));
            json!(r)
        }
        Err(e) => {
            part.missed("config:DescribeComplianceByConfigRule", Some(&region), e);
            json!({"not_evaluated": format!("{} in {region}: {}", e.api, e.cause)})
        }
    };
    let evaluated = controls
        .iter()
        .filter(|c| c.status != comp::Status::NotEvaluated)
        .count();
    part.findings = findings;
    part.metrics = json!({
            "compliance_percentage": comp::percentage(&controls),
            "controls_evaluated": evaluated,
            "controls_passed": controls.iter().filter(|c| c.status == comp::Status::Pass).count(),
            "controls_not_evaluated": controls.len() - evaluated,
            "controls": controls,
            "config_rules": rules_json,
    });
    part
}

/// Cost Explorer answers cached for the day they were asked (each request is charged).
struct CeCache {
    dir: std::path::PathBuf,
    requests: u32,
    hits: u32,
}

impl CeCache {
    fn key(&self, start: &str, end: &str, daily: bool, scope: &str) -> std::path::PathBuf {
        let clean = |s: &str| {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        };
        self.dir.join(format!(
            "{}-{start}-{end}-{}.json",
            clean(scope),
            if daily { "daily" } else { "monthly" }
        ))
    }

    async fn get<F: CostFacts>(
        &mut self,
        facts: &F,
        scope: &str,
        start: &str,
        end: &str,
        daily: bool,
    ) -> crate::Result<Result<Vec<CostPeriod>, Failure>> {
        let path = self.key(start, end, daily, scope);
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(&text)
        {
            self.hits += 1;
            return Ok(Ok(rows
                .iter()
                .map(|r| CostPeriod {
                    start: r["start"].as_str().unwrap_or_default().to_string(),
                    by_service: r["by_service"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|p| {
                                    (
                                        p[0].as_str().unwrap_or_default().to_string(),
                                        p[1].as_f64().unwrap_or(0.0),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()));
        }
        let (periods, n) = match facts.cost_and_usage(start, end, daily).await {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        self.requests += n;
        let doc: Vec<Value> = periods.iter().map(|p| json!({"start": p.start, "by_service": p.by_service.iter().map(|(s, v)| json!([s, v])).collect::<Vec<_>>()})).collect();
        fsutil::write_atomic(&path, serde_json::to_string(&doc).expect("JSON").as_bytes())?;
        Ok(Ok(periods))
    }
}

/// What a cost audit needs of the run.
pub struct CostRun<'a> {
    pub environment: &'a str,
    pub now: chrono::DateTime<chrono::Utc>,
    /// `--timeframe`.
    pub span: std::time::Duration,
    /// Whose costs (the endpoint or the credentials): the cache is per scope.
    pub scope: String,
    /// `.fractary/plugins/helm-cloud/audits/.cache/ce`.
    pub cache_root: std::path::PathBuf,
    pub settings: &'a crate::config::settings::Settings,
}

/// The cost audit: Cost Explorer (cached for the day) against the budgets, and waste
/// among the targets over 14 days of CloudWatch, each finding with its savings.
pub async fn cost<F: CostFacts + Observer>(
    facts: &F,
    targets: &[Target],
    run: &CostRun<'_>,
) -> crate::Result<Part> {
    use super::cost;
    use chrono::{Datelike, Duration};
    let (now, span, settings, env) = (run.now, run.span, run.settings, run.environment);
    let today = now.date_naive();
    let budget = cost::Budget {
        spike_percent: settings.cost.alert_on_spike_percent,
        daily_usd: settings.cost.daily_budget_usd,
        monthly_usd: settings.cost.monthly_budget_usd,
    };
    let scope = run.scope.clone();
    let mut cache = CeCache {
        dir: run.cache_root.join(today.to_string()),
        requests: 0,
        hits: 0,
    };
    let mut part = Part::new();
    let days = ((span.as_secs() / 86_400) as i64).max(14);
    let daily_start = today - Duration::days(days);
    let mut ce_ok = true;
    let daily_periods = match cache
        .get(
            facts,
            &scope,
            &daily_start.to_string(),
            &today.to_string(),
            true,
        )
        .await?
    {
        Ok(p) => p,
        Err(e) => {
            part.missed("Cost Explorer daily costs", None, &e);
            ce_ok = false;
            Vec::new()
        }
    };
    let mut daily = cost::Daily::new();
    for p in &daily_periods {
        if let Some(d) = day(&p.start) {
            let e = daily.entry(d).or_default();
            for (s, v) in &p.by_service {
                *e.entry(s.clone()).or_default() += v;
            }
        }
    }
    let last = today - Duration::days(1);
    let month_start = last.with_day(1).expect("day 1");
    let mtd_periods = if month_start < today && ce_ok {
        match cache
            .get(
                facts,
                &scope,
                &month_start.to_string(),
                &today.to_string(),
                false,
            )
            .await?
        {
            Ok(p) => p,
            Err(e) => {
                part.missed("Cost Explorer month to date", None, &e);
                ce_ok = false;
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let mut mtd_by_service: Vec<(String, f64)> = Vec::new();
    for p in &mtd_periods {
        for (s, v) in &p.by_service {
            match mtd_by_service.iter_mut().find(|(x, _)| x == s) {
                Some(e) => e.1 += v,
                None => mtd_by_service.push((s.clone(), *v)),
            }
        }
    }
    mtd_by_service.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mtd: f64 = mtd_by_service.iter().map(|(_, v)| v).sum();
    let (mut findings, figures) = cost::budget_findings(&daily, mtd, today, budget);
    if ce_ok {
        part.evaluated.add_everywhere("cost.");
    } else {
        // No figures, no budget verdict: a zero would read as "under budget".
        findings.clear();
    }

    // Waste among the registry's resources, over 14 days of CloudWatch.
    let tgts = targets;
    let waste_days = 14;
    let (start, end) = (now - Duration::days(waste_days), now);
    if !tgts.is_empty() {
        let opts = HealthOptions {
            status: true,
            ..HealthOptions::metrics_only(env, start, end)
        };
        let observations = facts.observe(tgts, &opts).await;
        let max_retention = settings.cloudwatch.log_retention_days;
        let mut dbs: Option<Vec<(String, String)>> = None;
        for (t, o) in tgts.iter().zip(&observations) {
            let v = |k: &str| o.metrics.get(k).and_then(|x| x.window);
            let id = &t.resource.id;
            let metrics_ok = o.metrics_error.is_none();
            if let Some(e) = &o.metrics_error {
                let line = format!("CloudWatch metrics of {id}: {e}");
                if !part.not_evaluated.contains(&line) {
                    part.not_evaluated.push(line);
                }
            }
            let finding = match t.kind {
                ResourceKind::Lambda if metrics_ok => {
                    part.evaluated.add(id, "waste.lambda_idle");
                    cost::idle_lambda(id, v("invocations").unwrap_or(0.0), waste_days)
                }
                ResourceKind::Rds if metrics_ok => {
                    if dbs.is_none() {
                        dbs = Some(match facts.db_classes(&t.region).await {
                            Ok(d) => d,
                            Err(e) => {
                                part.missed("rds:DescribeDBInstances", Some(&t.region), &e);
                                Vec::new()
                            }
                        });
                    }
                    if dbs
                        .as_ref()
                        .is_some_and(|d| d.iter().any(|d| d.0 == t.resource.name))
                    {
                        part.evaluated.add(id, "waste.rds_idle");
                    }
                    let class = dbs
                        .iter()
                        .flatten()
                        .find(|d| d.0 == t.resource.name)
                        .map(|d| d.1.clone())
                        .unwrap_or_default();
                    cost::idle_rds(
                        id,
                        &class,
                        v("cpu_avg_percent"),
                        v("connections_max").unwrap_or(0.0),
                        waste_days,
                    )
                }
                ResourceKind::Ecs if metrics_ok => {
                    let running = match &o.status {
                        StatusObs::Ecs { running, .. } => Some(*running),
                        _ => None,
                    };
                    match running {
                        Some(running) => {
                            part.evaluated.add(id, "waste.ecs_oversized");
                            cost::oversized_ecs(id, v("cpu_avg_percent"), running, waste_days)
                        }
                        None => None,
                    }
                }
                _ => None,
            };
            findings.extend(finding);
            if matches!(t.kind, ResourceKind::Lambda | ResourceKind::Ecs)
                || t.resource.log_group.is_some()
            {
                let groups =
                    match crate::investigator::run::log_groups_of(facts, &t.resource, &t.region)
                        .await
                    {
                        Ok(g) => g,
                        Err(e) => {
                            let line = format!("log groups of {id}: {}", e.brief);
                            if !part.not_evaluated.contains(&line) {
                                part.not_evaluated.push(line);
                            }
                            Vec::new()
                        }
                    };
                let mut read_all = true;
                for g in groups {
                    let infos = match facts.log_groups(&t.region, &g).await {
                        Ok(i) => i,
                        Err(e) => {
                            part.missed("logs:DescribeLogGroups", Some(&t.region), &e);
                            read_all = false;
                            Vec::new()
                        }
                    };
                    for info in infos.into_iter().filter(|i| i.name == g) {
                        findings.extend(cost::log_retention(
                            id,
                            &info.name,
                            info.retention_days,
                            info.stored_bytes,
                            max_retention,
                        ));
                    }
                }
                if read_all {
                    part.evaluated.add(id, "waste.log_retention");
                }
            }
        }
    }
    findings.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(
            b.monthly_savings_usd
                .unwrap_or(0.0)
                .total_cmp(&a.monthly_savings_usd.unwrap_or(0.0)),
        )
    });

    let savings: f64 = findings.iter().filter_map(|f| f.monthly_savings_usd).sum();
    let metrics = json!({
        "last_complete_day": figures.last_day.to_string(),
        "last_day_usd": round2(figures.last_day_usd),
        "previous_7_day_mean_usd": round2(figures.previous_7_day_mean_usd),
        "month_to_date_usd": round2(figures.month_to_date_usd),
        "month_to_date_by_service": mtd_by_service.iter().map(|(s, v)| json!({"service": s, "usd": round2(*v)})).collect::<Vec<_>>(),
        "budget_pace_usd": round2(figures.pace_usd),
        "forecast_month_end_usd": round2(figures.forecast_usd),
        "daily_budget_usd": budget.daily_usd,
        "monthly_budget_usd": budget.monthly_usd,
        "timeframe_total_usd": round2(daily.iter().filter(|(d, _)| **d >= today - Duration::days((span.as_secs() / 86_400) as i64)).map(|(_, s)| s.values().sum::<f64>()).sum()),
        "estimated_monthly_savings_usd": round2(savings),
        "cost_explorer_requests": cache.requests,
        "cost_explorer_cached_answers": cache.hits,
        "savings_are_estimates": "us-east-1 on-demand list prices of November 2026 (see helm-core auditor::cost::prices)",
    });
    part.findings = findings;
    part.metrics = metrics;
    Ok(part)
}

fn round2(v: f64) -> f64 {
    // + 0.0 turns a -0.0 into 0.0.
    (v * 100.0).round() / 100.0 + 0.0
}

fn day(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    //! The security audit on a fake of its port.
    use super::*;
    use futures::executor::block_on;

    struct Facts;

    fn fail(api: &str, code: Option<&str>, kind: FailureKind, cause: &str) -> Failure {
        Failure {
            kind,
            api: api.into(),
            code: code.map(str::to_string),
            cause: cause.into(),
            message: format!("{api} failed: {cause}"),
            brief: format!("{api}: {cause}"),
            hint: "h".into(),
        }
    }

    impl SecurityFacts for Facts {
        async fn open_ingress(&self, region: &str) -> Result<Vec<sec::OpenRule>, Failure> {
            match region {
                "us-east-1" => Ok(vec![sec::OpenRule {
                    group_id: "sg-1".into(),
                    group_name: "ssh".into(),
                    protocol: "tcp".into(),
                    from_port: Some(22),
                    to_port: Some(22),
                    cidr: "0.0.0.0/0".into(),
                }]),
                _ => Err(fail(
                    "ec2:DescribeSecurityGroups",
                    None,
                    FailureKind::Unavailable,
                    "endpoint unreachable",
                )),
            }
        }
        async fn bucket_facts(
            &self,
            _r: &str,
            id: &str,
            name: &str,
        ) -> Result<sec::BucketFacts, Failure> {
            Ok(sec::BucketFacts {
                id: id.into(),
                name: name.into(),
                policy_public: false,
                acl_public: false,
                public_access_block_complete: Some(true),
                default_encryption: true,
            })
        }
        async fn db_instances(&self, _r: &str) -> Result<Vec<(String, bool, bool)>, Failure> {
            Ok(vec![])
        }
        async fn lambda_security(
            &self,
            _r: &str,
            _i: &str,
            _n: &str,
        ) -> Result<sec::LambdaFacts, Failure> {
            Err(fail(
                "lambda:GetFunction",
                Some("AccessDeniedException"),
                FailureKind::PermissionDenied,
                "access denied",
            ))
        }
        async fn customer_policies(&self) -> Result<Vec<sec::PolicyFacts>, Failure> {
            Ok(vec![])
        }
        async fn kind_security(
            &self,
            kind: ResourceKind,
            _r: &str,
            id: &str,
            _n: &str,
            _a: &str,
        ) -> Result<sec::KindFacts, Failure> {
            match kind {
                ResourceKind::Kinesis => Ok(sec::KindFacts::Stream {
                    id: id.into(),
                    encrypted: false,
                }),
                _ => Err(fail(
                    "sns:GetTopicAttributes",
                    Some("AuthorizationError"),
                    FailureKind::PermissionDenied,
                    "access denied",
                )),
            }
        }
        async fn security_hub_findings(&self, _r: &str) -> Result<Vec<sec::HubFinding>, Failure> {
            Err(fail(
                "securityhub:GetFindings",
                Some("InvalidAccessException"),
                FailureKind::Rejected,
                "not subscribed",
            ))
        }
    }

    fn scoped(id: &str, kind: ResourceKind, region: &str) -> Scoped {
        Scoped {
            id: id.into(),
            name: id.into(),
            kind: Some(kind),
            region: region.into(),
            arn: format!("arn:aws:{kind}:{region}:1:{id}"),
        }
    }

    #[test]
    fn what_could_not_be_read_is_listed_and_never_counted_as_passed() {
        let resources = [
            scoped("uploads", ResourceKind::S3, "us-east-1"),
            scoped("api", ResourceKind::Lambda, "us-east-1"),
        ];
        let regions = ["us-east-1".to_string(), "eu-west-1".to_string()];
        let part = block_on(security(&Facts, &resources, &regions));
        assert!(
            part.findings
                .iter()
                .any(|f| f.check == "sg.open_admin_port")
        );
        assert_eq!(
            part.not_evaluated,
            [
                "ec2:DescribeSecurityGroups in eu-west-1: endpoint unreachable",
                "function api: access denied"
            ]
        );
        // One region unread: no security group issue may resolve on this run.
        assert!(!part.evaluated.covers("sg-9", "sg.open_admin_port"));
        assert!(part.evaluated.covers("uploads", "s3.public_bucket"));
        assert!(!part.evaluated.covers("api", "lambda.public_url"));
        // Security Hub off is a fact, not a failed read.
        assert_eq!(
            part.metrics["checked"]["security_hub_us-east-1"],
            "not enabled"
        );
        assert_eq!(part.metrics["score_partial"], true);
        assert_eq!(
            part.failures,
            [FailureKind::Unavailable, FailureKind::PermissionDenied]
        );
    }

    #[test]
    fn a_kind_whose_settings_were_read_is_judged_and_one_refused_is_not_evaluated() {
        let resources = [
            scoped("clicks", ResourceKind::Kinesis, "us-east-1"),
            scoped("alerts", ResourceKind::Sns, "us-east-1"),
            // No security check: never asked.
            scoped("q", ResourceKind::Sqs, "us-east-1"),
        ];
        let part = block_on(security(&Facts, &resources, &["us-east-1".to_string()]));
        let f = part
            .findings
            .iter()
            .find(|f| f.check == "kinesis.unencrypted")
            .expect("the stream's finding");
        assert_eq!(f.resource, "clicks");
        assert!(part.evaluated.covers("clicks", "kinesis.unencrypted"));
        assert!(!part.evaluated.covers("alerts", "sns.unencrypted"));
        assert!(
            part.not_evaluated
                .iter()
                .any(|l| l == "sns alerts: access denied"),
            "{:?}",
            part.not_evaluated
        );
    }

    impl ComplianceFacts for Facts {
        async fn password_min_length(&self) -> Result<Option<i32>, Failure> {
            Ok(Some(8))
        }
        async fn root_account(&self) -> Result<(bool, bool), Failure> {
            Err(fail(
                "iam:GetAccountSummary",
                None,
                FailureKind::PermissionDenied,
                "access denied",
            ))
        }
        async fn logging_multi_region_trails(&self, _r: &str) -> Result<Vec<String>, Failure> {
            Ok(vec!["org-trail".into()])
        }
        async fn account_id(&self) -> Result<String, Failure> {
            Ok("123456789012".into())
        }
        async fn account_public_access_block(
            &self,
            _r: &str,
            _a: &str,
        ) -> Result<Option<bool>, Failure> {
            Ok(Some(true))
        }
        async fn ebs_default_encryption(&self, _r: &str) -> Result<bool, Failure> {
            Ok(true)
        }
        async fn vpcs_without_flow_logs(&self, _r: &str) -> Result<(usize, Vec<String>), Failure> {
            Ok((1, vec![]))
        }
        async fn config_recording(&self, _r: &str) -> Result<bool, Failure> {
            Ok(true)
        }
        async fn config_rule_compliance(
            &self,
            _r: &str,
        ) -> Result<Vec<crate::auditor::compliance::RuleCompliance>, Failure> {
            Err(fail(
                "config:DescribeComplianceByConfigRule",
                None,
                FailureKind::Rejected,
                "the service answered with a server error",
            ))
        }
    }

    #[test]
    fn a_control_that_could_not_be_read_is_not_evaluated_never_passed() {
        let part = block_on(compliance(&Facts, &["us-east-1".to_string()]));
        let checks: Vec<&str> = part.findings.iter().map(|f| f.check.as_str()).collect();
        assert!(
            checks.contains(&"cis.iam_password_policy"),
            "8 < 14: {checks:?}"
        );
        assert!(checks.contains(&"cis.sg_admin_ports"), "sg-1 is open on 22");
        assert!(
            !checks.contains(&"cis.root_mfa"),
            "unread is not failed either"
        );
        assert!(
            part.not_evaluated
                .iter()
                .any(|n| n.contains("root_mfa") && n.contains("access denied")),
            "{:?}",
            part.not_evaluated
        );
        assert!(
            part.not_evaluated
                .iter()
                .any(|n| n.starts_with("config:DescribeComplianceByConfigRule in us-east-1"))
        );
        assert!(
            part.evaluated
                .covers("account", "cis.ebs_default_encryption")
        );
        assert!(!part.evaluated.covers("account", "cis.root_mfa"));
        assert_eq!(
            part.metrics["controls_not_evaluated"], 2,
            "{:#}",
            part.metrics
        );
    }

    /// Cost Explorer down; nothing else to read.
    struct NoCosts;

    impl CostFacts for NoCosts {
        async fn cost_and_usage(
            &self,
            _s: &str,
            _e: &str,
            _d: bool,
        ) -> Result<(Vec<CostPeriod>, u32), Failure> {
            Err(fail(
                "ce:GetCostAndUsage",
                None,
                FailureKind::Unavailable,
                "endpoint unreachable",
            ))
        }
        async fn db_classes(&self, _r: &str) -> Result<Vec<(String, String)>, Failure> {
            Ok(vec![])
        }
        async fn log_groups(
            &self,
            _r: &str,
            _p: &str,
        ) -> Result<Vec<crate::ports::LogGroupInfo>, Failure> {
            Ok(vec![])
        }
    }

    impl crate::ports::LogSource for NoCosts {
        async fn filter_events(
            &self,
            _r: &str,
            _g: &str,
            _s: i64,
            _e: i64,
            _p: Option<&str>,
            _each: &mut dyn FnMut(crate::ports::LogEvent) -> bool,
        ) -> Result<crate::ports::LogSweep, Failure> {
            Ok(Default::default())
        }
        async fn ecs_log_groups(
            &self,
            _r: &str,
            _c: &str,
            _s: &str,
        ) -> Result<Vec<String>, Failure> {
            Ok(vec![])
        }
    }

    impl Observer for NoCosts {
        async fn metric_data(
            &self,
            _r: &str,
            q: &[crate::ports::MetricQuery],
            _s: chrono::DateTime<chrono::Utc>,
            _e: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<crate::ports::MetricSeries>, Failure> {
            Ok(vec![Default::default(); q.len()])
        }
        async fn observe(
            &self,
            _t: &[Target],
            _o: &HealthOptions,
        ) -> Vec<crate::monitor::Observation> {
            vec![]
        }
        async fn detail_status(&self, _t: &Target, _e: &str) -> StatusObs {
            StatusObs::NotChecked
        }
    }

    #[test]
    fn without_cost_explorer_there_is_no_budget_verdict_and_no_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let settings = crate::config::Monitoring::defaults().settings();
        let run = CostRun {
            environment: "test",
            now: crate::clock::parse_rfc3339("2026-12-01T10:00:00Z").unwrap(),
            span: std::time::Duration::from_secs(30 * 86_400),
            scope: "emulator".into(),
            cache_root: dir.path().to_path_buf(),
            settings: &settings,
        };
        let part = block_on(cost(&NoCosts, &[], &run)).unwrap();
        assert!(
            part.findings.is_empty(),
            "a zero would read as under budget: {:?}",
            part.findings
        );
        assert!(!part.evaluated.covers("account", "cost.daily_budget"));
        assert_eq!(
            part.not_evaluated,
            ["Cost Explorer daily costs: endpoint unreachable"]
        );
        assert_eq!(part.failures, [FailureKind::Unavailable]);
        assert_eq!(part.metrics["cost_explorer_requests"], 0);
    }
}
