//! The audit use cases: each audit type reads the account through a port and returns a
//! [`Part`]: its findings, its metrics, what it evaluated (the evidence issues resolve on)
//! and, one line each, what it could not. The security audit lives here; cost and
//! compliance still run from the binary (issue #12 goes on).

use super::Finding;
use super::security as sec;
use crate::issues::Evaluated;
use crate::ports::{Failure, FailureKind, SecurityFacts};
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
                        part.evaluated.add(&res.id, "s3.");
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
            _ => {}
        }
    }
    match facts.customer_policies().await {
        Ok(policies) => {
            part.evaluated.add_everywhere("iam.");
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
            Err(e) if e.code.as_deref() == Some("InvalidAccessException") => {
                checked.insert(format!("security_hub_{r}"), json!("not enabled"));
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
}
