//! The reads behind the security and compliance audits. Each returns plain facts
//! (helm-core's types); what they mean is decided in helm-core's auditor.

use crate::{AwsClients, AwsError, AwsErrorKind};
use helm_core::auditor::compliance::RuleCompliance;
use helm_core::auditor::security::{
    BucketFacts, HubFinding, LambdaFacts, OpenRule, PolicyFacts, Statement,
};
use serde_json::Value;

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy document (JSON, possibly URL-encoded as IAM returns it).
pub fn parse_policy(document: &str) -> Vec<Statement> {
    let decoded = percent_decode(document);
    let Ok(doc) = serde_json::from_str::<Value>(&decoded) else {
        return Vec::new();
    };
    let stmts = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    stmts
        .iter()
        .map(|s| Statement {
            allow: s["Effect"] == "Allow",
            actions: strings(&s["Action"]),
            resources: strings(&s["Resource"]),
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a bucket policy allows everyone (Principal "*" or {"AWS": "*"}) without a condition.
pub fn policy_is_public(document: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return false;
    };
    let stmts = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        s @ Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    stmts.iter().any(|s| {
        let everyone =
            s["Principal"] == "*" || strings(&s["Principal"]["AWS"]).iter().any(|p| p == "*");
        s["Effect"] == "Allow" && everyone && s.get("Condition").is_none()
    })
}

impl AwsClients {
    /// Ingress rules open to 0.0.0.0/0 or ::/0 in `region`.
    pub async fn open_ingress(&self, region: &str) -> Result<Vec<OpenRule>, AwsError> {
        let ec2 = self.ec2(region);
        let mut out = Vec::new();
        let mut pages = ec2.describe_security_groups().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page
                .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", Some(region), e))?;
            for g in page.security_groups() {
                for p in g.ip_permissions() {
                    let world: Vec<String> = p
                        .ip_ranges()
                        .iter()
                        .filter_map(|r| r.cidr_ip())
                        .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()))
                        .filter(|c| *c == "0.0.0.0/0" || *c == "::/0")
                        .map(str::to_string)
                        .collect();
                    for cidr in world {
                        out.push(OpenRule {
                            group_id: g.group_id().unwrap_or_default().to_string(),
                            group_name: g.group_name().unwrap_or_default().to_string(),
                            protocol: p.ip_protocol().unwrap_or("-1").to_string(),
                            from_port: p.from_port(),
                            to_port: p.to_port(),
                            cidr,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// What a bucket's policy, ACL, public access block and encryption say.
    pub async fn bucket_facts(
        &self,
        region: &str,
        id: &str,
        name: &str,
    ) -> Result<BucketFacts, AwsError> {
        let s3 = self.s3(region);
        let policy_public = match s3.get_bucket_policy().bucket(name).send().await {
            Ok(p) => p.policy().is_some_and(policy_is_public),
            Err(e) => {
                let err = AwsError::from_sdk("s3:GetBucketPolicy", Some(name), e);
                if err.code.as_deref() != Some("NoSuchBucketPolicy")
                    && err.kind != AwsErrorKind::NotFound
                {
                    return Err(err);
                }
                false
            }
        };
        let acl = s3
            .get_bucket_acl()
            .bucket(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:GetBucketAcl", Some(name), e))?;
        let acl_public = acl.grants().iter().any(|g| {
            g.grantee()
                .and_then(|x| x.uri())
                .is_some_and(|u| u == ALL_USERS || u == AUTHENTICATED_USERS)
        });
        let public_access_block_complete =
            match s3.get_public_access_block().bucket(name).send().await {
                Ok(out) => out.public_access_block_configuration().map(|c| {
                    c.block_public_acls().unwrap_or(false)
                        && c.ignore_public_acls().unwrap_or(false)
                        && c.block_public_policy().unwrap_or(false)
                        && c.restrict_public_buckets().unwrap_or(false)
                }),
                Err(e) => {
                    let err = AwsError::from_sdk("s3:GetPublicAccessBlock", Some(name), e);
                    if err.code.as_deref() != Some("NoSuchPublicAccessBlockConfiguration")
                        && err.kind != AwsErrorKind::NotFound
                    {
                        return Err(err);
                    }
                    None
                }
            };
        let default_encryption = match s3.get_bucket_encryption().bucket(name).send().await {
            Ok(out) => out
                .server_side_encryption_configuration()
                .is_some_and(|c| !c.rules().is_empty()),
            Err(e) => {
                let err = AwsError::from_sdk("s3:GetBucketEncryption", Some(name), e);
                if err.code.as_deref() != Some("ServerSideEncryptionConfigurationNotFoundError")
                    && err.kind != AwsErrorKind::NotFound
                {
                    return Err(err);
                }
                false
            }
        };
        Ok(BucketFacts {
            id: id.into(),
            name: name.into(),
            policy_public,
            acl_public,
            public_access_block_complete,
            default_encryption,
        })
    }

    /// The account's customer-managed policies with their default version's statements.
    pub async fn customer_policies(&self) -> Result<Vec<PolicyFacts>, AwsError> {
        let iam = self.iam();
        let mut out = Vec::new();
        let mut pages = iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("iam:ListPolicies", None, e))?;
            for p in page.policies() {
                let (Some(arn), Some(version)) = (p.arn(), p.default_version_id()) else {
                    continue;
                };
                let v = iam
                    .get_policy_version()
                    .policy_arn(arn)
                    .version_id(version)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("iam:GetPolicyVersion", Some(arn), e))?;
                let doc = v
                    .policy_version()
                    .and_then(|x| x.document())
                    .unwrap_or_default();
                out.push(PolicyFacts {
                    name: p.policy_name().unwrap_or_default().to_string(),
                    attached: p.attachment_count().unwrap_or(0) > 0,
                    statements: parse_policy(doc),
                });
            }
        }
        Ok(out)
    }

    /// A function's URL auth type and runtime.
    pub async fn lambda_security(
        &self,
        region: &str,
        id: &str,
        name: &str,
    ) -> Result<LambdaFacts, AwsError> {
        let lambda = self.lambda(region);
        let url_auth = match lambda
            .get_function_url_config()
            .function_name(name)
            .send()
            .await
        {
            Ok(c) => Some(c.auth_type().as_str().to_string()),
            Err(e) => {
                let err = AwsError::from_sdk("lambda:GetFunctionUrlConfig", Some(name), e);
                if err.kind != AwsErrorKind::NotFound {
                    return Err(err);
                }
                None
            }
        };
        let f = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("lambda:GetFunctionConfiguration", Some(name), e))?;
        Ok(LambdaFacts {
            id: id.into(),
            url_auth,
            runtime: f.runtime().map(|r| r.as_str().to_string()),
        })
    }

    /// Security Hub findings (active, not suppressed: asked of the server, and checked again
    /// by the caller, since not every server filters).
    pub async fn security_hub_findings(&self, region: &str) -> Result<Vec<HubFinding>, AwsError> {
        use aws_sdk_securityhub::types::{
            AwsSecurityFindingFilters, StringFilter, StringFilterComparison,
        };
        let hub = self.securityhub(region);
        let filters = AwsSecurityFindingFilters::builder()
            .record_state(
                StringFilter::builder()
                    .value("ACTIVE")
                    .comparison(StringFilterComparison::Equals)
                    .build(),
            )
            .workflow_status(
                StringFilter::builder()
                    .value("SUPPRESSED")
                    .comparison(StringFilterComparison::NotEquals)
                    .build(),
            )
            .build();
        let mut out = Vec::new();
        let mut pages = hub
            .get_findings()
            .filters(filters.clone())
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("securityhub:GetFindings", Some(region), e))?;
            for f in page.findings() {
                out.push(HubFinding {
                    id: f.id().unwrap_or_default().to_string(),
                    title: f.title().unwrap_or_default().to_string(),
                    severity_label: f
                        .severity()
                        .and_then(|s| s.label())
                        .map(|l| l.as_str().to_string())
                        .unwrap_or_default(),
                    resource: f
                        .resources()
                        .first()
                        .and_then(|r| r.id())
                        .unwrap_or_default()
                        .to_string(),
                    record_state: f
                        .record_state()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_else(|| "ACTIVE".into()),
                    workflow_status: f
                        .workflow()
                        .and_then(|w| w.status())
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_else(|| "NEW".into()),
                    remediation: f
                        .remediation()
                        .and_then(|r| r.recommendation())
                        .and_then(|r| r.text())
                        .map(str::to_string),
                });
            }
        }
        Ok(out)
    }

    /// IAM password policy: the minimum length (Ok(None): no policy).
    pub async fn password_min_length(&self) -> Result<Option<i32>, AwsError> {
        Ok(self.password_policy().await?.map(|p| p.min_length))
    }

    /// (root MFA enabled, root access keys present) from the account summary.
    pub async fn root_account(&self) -> Result<(bool, bool), AwsError> {
        use aws_sdk_iam::types::SummaryKeyType;
        let s = self
            .iam()
            .get_account_summary()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:GetAccountSummary", None, e))?;
        let map = s.summary_map().cloned().unwrap_or_default();
        Ok((
            map.get(&SummaryKeyType::AccountMfaEnabled)
                .copied()
                .unwrap_or(0)
                == 1,
            map.get(&SummaryKeyType::AccountAccessKeysPresent)
                .copied()
                .unwrap_or(0)
                > 0,
        ))
    }

    /// Multi-region trails that are logging (names).
    pub async fn logging_multi_region_trails(&self, region: &str) -> Result<Vec<String>, AwsError> {
        let ct = self.cloudtrail(region);
        let trails = ct
            .describe_trails()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudtrail:DescribeTrails", Some(region), e))?;
        let mut out = Vec::new();
        for t in trails
            .trail_list()
            .iter()
            .filter(|t| t.is_multi_region_trail().unwrap_or(false))
        {
            let name = t.trail_arn().or(t.name()).unwrap_or_default();
            let st = ct
                .get_trail_status()
                .name(name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("cloudtrail:GetTrailStatus", Some(name), e))?;
            if st.is_logging().unwrap_or(false) {
                out.push(t.name().unwrap_or_default().to_string());
            }
        }
        Ok(out)
    }

    /// The account's S3 Block Public Access: all four on (Ok(None): not configured).
    pub async fn account_public_access_block(
        &self,
        region: &str,
        account: &str,
    ) -> Result<Option<bool>, AwsError> {
        match self
            .s3control(region)
            .get_public_access_block()
            .account_id(account)
            .send()
            .await
        {
            Ok(out) => Ok(out.public_access_block_configuration().map(|c| {
                c.block_public_acls().unwrap_or(false)
                    && c.ignore_public_acls().unwrap_or(false)
                    && c.block_public_policy().unwrap_or(false)
                    && c.restrict_public_buckets().unwrap_or(false)
            })),
            Err(e) => {
                let err = AwsError::from_sdk("s3control:GetPublicAccessBlock", Some(account), e);
                if err.code.as_deref() == Some("NoSuchPublicAccessBlockConfiguration")
                    || err.kind == AwsErrorKind::NotFound
                {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    pub async fn ebs_default_encryption(&self, region: &str) -> Result<bool, AwsError> {
        let out = self
            .ec2(region)
            .get_ebs_encryption_by_default()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:GetEbsEncryptionByDefault", Some(region), e))?;
        Ok(out.ebs_encryption_by_default().unwrap_or(false))
    }

    /// VPCs of `region` without a flow log.
    pub async fn vpcs_without_flow_logs(
        &self,
        region: &str,
    ) -> Result<(usize, Vec<String>), AwsError> {
        let ec2 = self.ec2(region);
        let vpcs = ec2
            .describe_vpcs()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeVpcs", Some(region), e))?;
        let logs = ec2
            .describe_flow_logs()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeFlowLogs", Some(region), e))?;
        let covered: Vec<&str> = logs
            .flow_logs()
            .iter()
            .filter_map(|f| f.resource_id())
            .collect();
        let all: Vec<String> = vpcs
            .vpcs()
            .iter()
            .filter_map(|v| v.vpc_id().map(str::to_string))
            .collect();
        let missing = all
            .iter()
            .filter(|v| !covered.contains(&v.as_str()))
            .cloned()
            .collect();
        Ok((all.len(), missing))
    }

    /// Whether a configuration recorder is recording.
    pub async fn config_recording(&self, region: &str) -> Result<bool, AwsError> {
        let out = self
            .config(region)
            .describe_configuration_recorder_status()
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "config:DescribeConfigurationRecorderStatus",
                    Some(region),
                    e,
                )
            })?;
        Ok(out
            .configuration_recorders_status()
            .iter()
            .any(|s| s.recording()))
    }

    /// Config rules' compliance (all pages).
    pub async fn config_rule_compliance(
        &self,
        region: &str,
    ) -> Result<Vec<RuleCompliance>, AwsError> {
        config_rules(&self.config(region)).await
    }
}

/// Config rules' compliance through a given client (the tests give a stubbed one).
pub(crate) async fn config_rules(
    client: &aws_sdk_config::Client,
) -> Result<Vec<RuleCompliance>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client
        .describe_compliance_by_config_rule()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| AwsError::from_sdk("config:DescribeComplianceByConfigRule", None, e))?;
        for r in page.compliance_by_config_rules() {
            out.push(RuleCompliance {
                rule: r.config_rule_name().unwrap_or_default().to_string(),
                compliance: r
                    .compliance()
                    .and_then(|c| c.compliance_type())
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "INSUFFICIENT_DATA".into()),
            });
        }
    }
    Ok(out)
}

/// AWS as the security audit sees it.
impl helm_core::ports::SecurityFacts for AwsClients {
    async fn open_ingress(
        &self,
        region: &str,
    ) -> Result<Vec<helm_core::auditor::security::OpenRule>, helm_core::ports::Failure> {
        Ok(AwsClients::open_ingress(self, region).await?)
    }
    async fn bucket_facts(
        &self,
        region: &str,
        id: &str,
        name: &str,
    ) -> Result<helm_core::auditor::security::BucketFacts, helm_core::ports::Failure> {
        Ok(AwsClients::bucket_facts(self, region, id, name).await?)
    }
    async fn db_instances(
        &self,
        region: &str,
    ) -> Result<Vec<(String, bool, bool)>, helm_core::ports::Failure> {
        Ok(AwsClients::db_instances(self, region)
            .await?
            .into_iter()
            .map(|d| (d.id, d.public, d.encrypted))
            .collect())
    }
    async fn lambda_security(
        &self,
        region: &str,
        id: &str,
        name: &str,
    ) -> Result<helm_core::auditor::security::LambdaFacts, helm_core::ports::Failure> {
        Ok(AwsClients::lambda_security(self, region, id, name).await?)
    }
    async fn customer_policies(
        &self,
    ) -> Result<Vec<helm_core::auditor::security::PolicyFacts>, helm_core::ports::Failure> {
        Ok(AwsClients::customer_policies(self).await?)
    }
    async fn kind_security(
        &self,
        kind: helm_core::resource::ResourceKind,
        region: &str,
        id: &str,
        name: &str,
        arn: &str,
    ) -> Result<helm_core::auditor::security::KindFacts, helm_core::ports::Failure> {
        Ok(AwsClients::kind_security(self, kind, region, id, name, arn).await?)
    }
    async fn security_hub_findings(
        &self,
        region: &str,
    ) -> Result<Vec<helm_core::auditor::security::HubFinding>, helm_core::ports::Failure> {
        Ok(AwsClients::security_hub_findings(self, region).await?)
    }
}

/// AWS as the compliance audit sees it.
impl helm_core::ports::ComplianceFacts for AwsClients {
    async fn password_min_length(&self) -> Result<Option<i32>, helm_core::ports::Failure> {
        Ok(AwsClients::password_min_length(self).await?)
    }
    async fn root_account(&self) -> Result<(bool, bool), helm_core::ports::Failure> {
        Ok(AwsClients::root_account(self).await?)
    }
    async fn logging_multi_region_trails(
        &self,
        region: &str,
    ) -> Result<Vec<String>, helm_core::ports::Failure> {
        Ok(AwsClients::logging_multi_region_trails(self, region).await?)
    }
    async fn account_id(&self) -> Result<String, helm_core::ports::Failure> {
        Ok(self.caller_identity().await?.account)
    }
    async fn account_public_access_block(
        &self,
        region: &str,
        account: &str,
    ) -> Result<Option<bool>, helm_core::ports::Failure> {
        Ok(AwsClients::account_public_access_block(self, region, account).await?)
    }
    async fn ebs_default_encryption(
        &self,
        region: &str,
    ) -> Result<bool, helm_core::ports::Failure> {
        Ok(AwsClients::ebs_default_encryption(self, region).await?)
    }
    async fn vpcs_without_flow_logs(
        &self,
        region: &str,
    ) -> Result<(usize, Vec<String>), helm_core::ports::Failure> {
        Ok(AwsClients::vpcs_without_flow_logs(self, region).await?)
    }
    async fn config_recording(&self, region: &str) -> Result<bool, helm_core::ports::Failure> {
        Ok(AwsClients::config_recording(self, region).await?)
    }
    async fn config_rule_compliance(
        &self,
        region: &str,
    ) -> Result<Vec<RuleCompliance>, helm_core::ports::Failure> {
        Ok(AwsClients::config_rule_compliance(self, region).await?)
    }
}

impl AwsClients {
    /// The security settings of one resource of a kind with checks of its own
    /// (`security::kind_checks`): one or two reads per resource.
    pub async fn kind_security(
        &self,
        kind: helm_core::resource::ResourceKind,
        region: &str,
        id: &str,
        name: &str,
        arn: &str,
    ) -> Result<helm_core::auditor::security::KindFacts, AwsError> {
        use helm_core::auditor::security::KindFacts;
        use helm_core::resource::ResourceKind as K;
        let id = id.to_string();
        let unsupported = || {
            AwsError::local(
                "helm-cloud",
                Some(&id),
                crate::AwsErrorKind::Service,
                format!("no security checks for a {kind}"),
            )
        };
        match kind {
            K::Kinesis => {
                let encrypted = self
                    .stream_summary(region, name)
                    .await?
                    .encryption_type()
                    .is_some_and(|t| t.as_str() == "KMS");
                Ok(KindFacts::Stream { id, encrypted })
            }
            K::ElastiCache => {
                let c = self.cache_cluster(region, name).await?;
                Ok(KindFacts::Cache {
                    id,
                    engine: c.engine().unwrap_or("unknown").to_string(),
                    at_rest: c.at_rest_encryption_enabled().unwrap_or(false),
                    in_transit: c.transit_encryption_enabled().unwrap_or(false),
                })
            }
            K::Sns => {
                let out = self
                    .sns(region)
                    .get_topic_attributes()
                    .topic_arn(arn)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("sns:GetTopicAttributes", Some(name), e))?;
                let kms = out
                    .attributes()
                    .and_then(|a| a.get("KmsMasterKeyId"))
                    .is_some_and(|k| !k.is_empty());
                Ok(KindFacts::Topic { id, kms })
            }
            K::Alb => {
                let mut plain = Vec::new();
                let mut pages = self
                    .elbv2(region)
                    .describe_listeners()
                    .load_balancer_arn(arn)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| {
                        AwsError::from_sdk("elasticloadbalancing:DescribeListeners", Some(name), e)
                    })?;
                    for l in page.listeners() {
                        let http = l.protocol().is_some_and(|p| p.as_str() == "HTTP");
                        let redirects = l.default_actions().iter().any(|a| {
                            a.redirect_config()
                                .and_then(|r| r.protocol())
                                .is_some_and(|p| p.eq_ignore_ascii_case("HTTPS"))
                        });
                        if http && !redirects {
                            plain.push(l.port().unwrap_or(0));
                        }
                    }
                }
                plain.sort_unstable();
                Ok(KindFacts::Balancer {
                    id,
                    plain_http_ports: plain,
                })
            }
            K::Asg => {
                let imdsv2_required = self.group_requires_imdsv2(region, name).await?;
                Ok(KindFacts::Group {
                    id,
                    imdsv2_required,
                })
            }
            _ => Err(unsupported()),
        }
    }

    /// Whether the instances an Auto Scaling group launches require IMDSv2: its launch
    /// template version (direct or in a mixed-instances policy) or its launch configuration.
    async fn group_requires_imdsv2(&self, region: &str, name: &str) -> Result<bool, AwsError> {
        let g = self.describe_group(region, name).await?.ok_or_else(|| {
            AwsError::local(
                "autoscaling:DescribeAutoScalingGroups",
                Some(name),
                crate::AwsErrorKind::NotFound,
                "Auto Scaling group not found",
            )
        })?;
        let template = g.launch_template().cloned().or_else(|| {
            g.mixed_instances_policy()
                .and_then(|m| m.launch_template())
                .and_then(|t| t.launch_template_specification())
                .cloned()
        });
        let tokens = if let Some(t) = template {
            let version = t.version().unwrap_or("$Default").to_string();
            let out = self
                .ec2(region)
                .describe_launch_template_versions()
                .set_launch_template_id(t.launch_template_id().map(str::to_string))
                .set_launch_template_name(
                    t.launch_template_id()
                        .is_none()
                        .then(|| t.launch_template_name().map(str::to_string))
                        .flatten(),
                )
                .versions(version)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("ec2:DescribeLaunchTemplateVersions", Some(name), e)
                })?;
            out.launch_template_versions()
                .first()
                .and_then(|v| v.launch_template_data())
                .and_then(|d| d.metadata_options())
                .and_then(|m| m.http_tokens())
                .map(|t| t.as_str().to_string())
        } else if let Some(lc) = g.launch_configuration_name() {
            let out = self
                .ec2_autoscaling(region)
                .describe_launch_configurations()
                .launch_configuration_names(lc)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("autoscaling:DescribeLaunchConfigurations", Some(lc), e)
                })?;
            out.launch_configurations()
                .first()
                .and_then(|c| c.metadata_options())
                .and_then(|m| m.http_tokens())
                .map(|t| t.as_str().to_string())
        } else {
            return Err(AwsError::local(
                "autoscaling:DescribeAutoScalingGroups",
                Some(name),
                crate::AwsErrorKind::Service,
                "the group names no launch template or configuration",
            ));
        };
        Ok(tokens.as_deref() == Some("required"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_config::operation::describe_compliance_by_config_rule::DescribeComplianceByConfigRuleOutput;
    use aws_sdk_config::types::{Compliance, ComplianceByConfigRule, ComplianceType};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn rule(name: &str, t: ComplianceType) -> ComplianceByConfigRule {
        ComplianceByConfigRule::builder()
            .config_rule_name(name)
            .compliance(Compliance::builder().compliance_type(t).build())
            .build()
    }

    /// SDK-level stub: the emulator cannot answer Config rule compliance (it returns 500),
    /// so the paging and mapping are tested against stubbed responses instead.
    #[tokio::test]
    async fn config_rule_compliance_pages_and_maps() {
        let first = mock!(aws_sdk_config::Client::describe_compliance_by_config_rule)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                DescribeComplianceByConfigRuleOutput::builder()
                    .compliance_by_config_rules(rule(
                        "s3-bucket-ssl-requests-only",
                        ComplianceType::NonCompliant,
                    ))
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_config::Client::describe_compliance_by_config_rule)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                DescribeComplianceByConfigRuleOutput::builder()
                    .compliance_by_config_rules(rule(
                        "iam-user-mfa-enabled",
                        ComplianceType::Compliant,
                    ))
                    .build()
            });
        let client = mock_client!(aws_sdk_config, RuleMode::MatchAny, [&first, &second]);
        let got = config_rules(&client).await.unwrap();
        assert_eq!(
            got,
            vec![
                RuleCompliance {
                    rule: "s3-bucket-ssl-requests-only".into(),
                    compliance: "NON_COMPLIANT".into()
                },
                RuleCompliance {
                    rule: "iam-user-mfa-enabled".into(),
                    compliance: "COMPLIANT".into()
                },
            ]
        );
    }

    #[test]
    fn policy_documents_parse_url_encoded_and_public_policies_are_found() {
        let doc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D";
        let s = parse_policy(doc);
        assert_eq!(
            s,
            vec![Statement {
                allow: true,
                actions: vec!["*".into()],
                resources: vec!["*".into()]
            }]
        );
        assert!(policy_is_public(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#
        ));
        assert!(policy_is_public(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"x"}]}"#
        ));
        assert!(!policy_is_public(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"x","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#
        ));
        assert!(!policy_is_public(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"x"}]}"#
        ));
    }
}
