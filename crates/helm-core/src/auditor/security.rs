//! Security checks as data: each has an id, a title, a severity and a fix; the facts come
//! from the adapter. A security score is 100 minus weighted findings (critical 20, high 10,
//! medium 4, low 1), floored at 0.

use super::{Finding, Severity};

/// An ingress rule open to the world (0.0.0.0/0 or ::/0).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenRule {
    pub group_id: String,
    pub group_name: String,
    /// `tcp`, `udp`, `-1` (all).
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub cidr: String,
}

pub const ADMIN_PORTS: &[i32] = &[22, 3389];
pub const DATABASE_PORTS: &[i32] = &[3306, 5432, 1433, 1521, 27017, 6379];

impl OpenRule {
    fn covers(&self, port: i32) -> bool {
        if self.protocol == "-1" {
            return true;
        }
        match (self.from_port, self.to_port) {
            (Some(f), Some(t)) => f <= port && port <= t,
            _ => true,
        }
    }

    fn describe_ports(&self) -> String {
        match (self.protocol.as_str(), self.from_port, self.to_port) {
            ("-1", _, _) => "all traffic".into(),
            (p, Some(f), Some(t)) if f == t => format!("{p}/{f}"),
            (p, Some(f), Some(t)) => format!("{p}/{f}-{t}"),
            (p, _, _) => format!("{p}/all"),
        }
    }
}

/// Findings for world-open ingress: admin ports critical, database ports high, any other
/// port but 80 and 443 medium. One finding per rule, at its highest severity.
pub fn security_group_findings(rules: &[OpenRule]) -> Vec<Finding> {
    rules
        .iter()
        .filter_map(|r| {
            let (check, title, severity, fix) = if ADMIN_PORTS.iter().any(|p| r.covers(*p)) {
                ("sg.open_admin_port", "Remote administration open to the world", Severity::Critical, "Remove the rule; reach hosts through SSM Session Manager or a bastion limited to known addresses")
            } else if DATABASE_PORTS.iter().any(|p| r.covers(*p)) {
                ("sg.open_database_port", "Database port open to the world", Severity::High, "Allow the database port only from the application's security group")
            } else if r.protocol != "-1" && r.from_port == r.to_port && matches!(r.from_port, Some(80) | Some(443)) {
                return None;
            } else {
                ("sg.open_port", "Port open to the world", Severity::Medium, "Limit the source to the addresses or security groups that need it")
            };
            Some(Finding {
                check: check.into(),
                title: title.into(),
                resource: format!("{} ({})", r.group_id, r.group_name),
                severity,
                detail: format!("ingress {} from {}", r.describe_ports(), r.cidr),
                recommendation: fix.into(),
                monthly_savings_usd: None,
            })
        })
        .collect()
}

/// What the APIs say about a bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketFacts {
    pub id: String,
    pub name: String,
    pub policy_public: bool,
    pub acl_public: bool,
    /// None: no public access block at all; Some(false): one of its four settings is off.
    pub public_access_block_complete: Option<bool>,
    pub default_encryption: bool,
}

pub fn bucket_findings(b: &BucketFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let f = |check: &str, title: &str, severity, detail: String, fix: &str| Finding {
        check: check.into(),
        title: title.into(),
        resource: format!("{} ({})", b.id, b.name),
        severity,
        detail,
        recommendation: fix.into(),
        monthly_savings_usd: None,
    };
    if b.policy_public || b.acl_public {
        let how = match (b.policy_public, b.acl_public) {
            (true, true) => "its bucket policy and its ACL",
            (true, false) => "its bucket policy",
            _ => "its ACL",
        };
        out.push(f(
            "s3.public_bucket",
            "Bucket open to everyone",
            Severity::Critical,
            format!("{how} grant access to everyone"),
            "Remove the public grant and turn on Block Public Access",
        ));
    }
    if b.public_access_block_complete != Some(true) {
        let detail = if b.public_access_block_complete.is_none() {
            "no public access block"
        } else {
            "the public access block is incomplete"
        };
        out.push(f(
            "s3.public_access_block",
            "Public access block incomplete",
            Severity::Medium,
            detail.into(),
            "Turn on all four Block Public Access settings for the bucket",
        ));
    }
    if !b.default_encryption {
        out.push(f(
            "s3.default_encryption",
            "No explicit default encryption",
            Severity::Low,
            "no default encryption configuration".into(),
            "Set default encryption (SSE-S3 or SSE-KMS) explicitly",
        ));
    }
    out
}

/// The checks [`bucket_findings`] decides.
pub const BUCKET_CHECKS: &[&str] = &[
    "s3.public_bucket",
    "s3.public_access_block",
    "s3.default_encryption",
];

/// One statement of a customer-managed IAM policy's default version.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFacts {
    pub name: String,
    pub attached: bool,
    pub statements: Vec<Statement>,
}

pub fn policy_findings(p: &PolicyFacts) -> Vec<Finding> {
    let on_all = |s: &Statement| s.resources.iter().any(|r| r == "*");
    let admin = p
        .statements
        .iter()
        .any(|s| s.allow && on_all(s) && s.actions.iter().any(|a| a == "*"));
    let service_wide: Vec<String> = p
        .statements
        .iter()
        .filter(|s| s.allow && on_all(s))
        .flat_map(|s| {
            s.actions
                .iter()
                .filter(|a| a.ends_with(":*") && a.len() > 2)
                .cloned()
        })
        .collect();
    let mut out = Vec::new();
    if admin {
        out.push(Finding {
            check: "iam.admin_wildcard".into(),
            title: "Policy allows every action on every resource".into(),
            resource: p.name.clone(),
            severity: if p.attached { Severity::Critical } else { Severity::High },
            detail: format!("\"Action\": \"*\" on \"Resource\": \"*\" ({})", if p.attached { "attached" } else { "not attached" }),
            recommendation: "Grant the actions and resources the role needs; delete the policy if unused".into(),
            monthly_savings_usd: None,
        });
    }
    if !service_wide.is_empty() {
        out.push(Finding {
            check: "iam.service_wildcard".into(),
            title: "Policy allows a whole service on every resource".into(),
            resource: p.name.clone(),
            severity: Severity::High,
            detail: format!("{} on \"*\"", service_wide.join(", ")),
            recommendation: "List the actions needed instead of service:*".into(),
            monthly_savings_usd: None,
        });
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct RdsFacts {
    pub id: String,
    pub public: bool,
    pub encrypted: bool,
}

pub fn rds_findings(r: &RdsFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    if r.public {
        out.push(Finding {
            check: "rds.public".into(),
            title: "Database publicly accessible".into(),
            resource: r.id.clone(),
            severity: Severity::High,
            detail: "PubliclyAccessible is true".into(),
            recommendation: "Set PubliclyAccessible to false and reach it from inside the VPC"
                .into(),
            monthly_savings_usd: None,
        });
    }
    if !r.encrypted {
        out.push(Finding { check: "rds.unencrypted".into(), title: "Database storage not encrypted".into(), resource: r.id.clone(), severity: Severity::Medium, detail: "StorageEncrypted is false".into(), recommendation: "Restore an encrypted copy from a snapshot (encryption cannot be turned on in place)".into(), monthly_savings_usd: None });
    }
    out
}

/// Runtimes AWS has deprecated for Lambda (November 2026).
pub const DEPRECATED_RUNTIMES: &[&str] = &[
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet5.0",
    "dotnet6",
    "ruby2.5",
    "ruby2.7",
    "go1.x",
    "provided",
];

#[derive(Debug, Clone, PartialEq)]
pub struct LambdaFacts {
    pub id: String,
    /// The function URL's auth type, if it has a URL.
    pub url_auth: Option<String>,
    pub runtime: Option<String>,
}

pub fn lambda_findings(l: &LambdaFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    if l.url_auth.as_deref() == Some("NONE") {
        out.push(Finding {
            check: "lambda.public_url".into(),
            title: "Function URL without authentication".into(),
            resource: l.id.clone(),
            severity: Severity::High,
            detail: "AuthType NONE: anyone can invoke it".into(),
            recommendation: "Use AuthType AWS_IAM, or put API Gateway with an authorizer in front"
                .into(),
            monthly_savings_usd: None,
        });
    }
    if let Some(r) = l
        .runtime
        .as_deref()
        .filter(|r| DEPRECATED_RUNTIMES.contains(r))
    {
        out.push(Finding {
            check: "lambda.deprecated_runtime".into(),
            title: "Deprecated Lambda runtime".into(),
            resource: l.id.clone(),
            severity: Severity::Medium,
            detail: format!("runtime {r} no longer gets security patches"),
            recommendation: "Move to a supported runtime and redeploy".into(),
            monthly_savings_usd: None,
        });
    }
    out
}

/// The security settings of a resource of the kinds #20 added, as the adapter reads them.
#[derive(Debug, Clone, PartialEq)]
pub enum KindFacts {
    /// A Kinesis stream: EncryptionType KMS.
    Stream { id: String, encrypted: bool },
    /// An ElastiCache cluster. At-rest encryption is Redis/Valkey only (Memcached has none
    /// to turn on), so it is not asked of a Memcached cluster.
    Cache {
        id: String,
        engine: String,
        at_rest: bool,
        in_transit: bool,
    },
    /// An SNS topic: a KMS key (KmsMasterKeyId).
    Topic { id: String, kms: bool },
    /// An Application Load Balancer: the ports of its HTTP listeners whose default action
    /// is not a redirect to HTTPS.
    Balancer {
        id: String,
        plain_http_ports: Vec<i32>,
    },
    /// An Auto Scaling group: whether its launch template (or configuration) requires
    /// IMDSv2 (HttpTokens `required`).
    Group { id: String, imdsv2_required: bool },
}

/// The checks a kind's facts evaluate (a read that succeeded evaluates all of them).
pub fn kind_checks(kind: crate::resource::ResourceKind) -> &'static [&'static str] {
    use crate::resource::ResourceKind as K;
    match kind {
        K::Kinesis => &["kinesis.unencrypted"],
        K::ElastiCache => &[
            "elasticache.unencrypted_at_rest",
            "elasticache.unencrypted_in_transit",
        ],
        K::Sns => &["sns.unencrypted"],
        K::Alb => &["alb.http_listener"],
        K::Asg => &["asg.imdsv1"],
        _ => &[],
    }
}

pub fn kind_findings(f: &KindFacts) -> Vec<Finding> {
    let finding =
        |check: &str, title: &str, id: &str, severity, detail: String, fix: &str| Finding {
            check: check.into(),
            title: title.into(),
            resource: id.into(),
            severity,
            detail,
            recommendation: fix.into(),
            monthly_savings_usd: None,
        };
    let mut out = Vec::new();
    match f {
        KindFacts::Stream { id, encrypted } => {
            if !encrypted {
                out.push(finding(
                    "kinesis.unencrypted",
                    "Kinesis stream not encrypted at rest",
                    id,
                    Severity::Medium,
                    "EncryptionType NONE".into(),
                    "Start server-side encryption with a KMS key (in place, no downtime)",
                ));
            }
        }
        KindFacts::Cache {
            id,
            engine,
            at_rest,
            in_transit,
        } => {
            if !at_rest && !engine.eq_ignore_ascii_case("memcached") {
                out.push(finding(
                    "elasticache.unencrypted_at_rest",
                    "Cache not encrypted at rest",
                    id,
                    Severity::Medium,
                    format!("{engine}: AtRestEncryptionEnabled is false"),
                    "Create an encrypted replication group from a backup (at-rest encryption cannot be turned on in place)",
                ));
            }
            if !in_transit {
                out.push(finding(
                    "elasticache.unencrypted_in_transit",
                    "Cache traffic not encrypted in transit",
                    id,
                    Severity::Medium,
                    format!("{engine}: TransitEncryptionEnabled is false"),
                    "Turn on in-transit encryption (TransitEncryptionMode preferred, then required) and connect with TLS",
                ));
            }
        }
        KindFacts::Topic { id, kms } => {
            if !kms {
                out.push(finding(
                    "sns.unencrypted",
                    "SNS topic not encrypted at rest",
                    id,
                    Severity::Low,
                    "no KmsMasterKeyId".into(),
                    "Set the topic's KmsMasterKeyId (alias/aws/sns or a customer key)",
                ));
            }
        }
        KindFacts::Balancer {
            id,
            plain_http_ports,
        } => {
            if !plain_http_ports.is_empty() {
                let ports: Vec<String> = plain_http_ports.iter().map(i32::to_string).collect();
                out.push(finding(
                    "alb.http_listener",
                    "Load balancer serves plain HTTP",
                    id,
                    Severity::Medium,
                    format!(
                        "HTTP listener on port {} forwards instead of redirecting to HTTPS",
                        ports.join(", ")
                    ),
                    "Make each HTTP listener's default action a redirect to HTTPS (HTTP_301) and serve on an HTTPS listener",
                ));
            }
        }
        KindFacts::Group {
            id,
            imdsv2_required,
        } => {
            if !imdsv2_required {
                out.push(finding(
                    "asg.imdsv1",
                    "Instances allow IMDSv1",
                    id,
                    Severity::Medium,
                    "the launch template's HttpTokens is not required".into(),
                    "Set MetadataOptions HttpTokens=required in a new launch template version and roll the group (instance refresh)",
                ));
            }
        }
    }
    out
}

/// A Security Hub finding, reduced.
#[derive(Debug, Clone, PartialEq)]
pub struct HubFinding {
    pub id: String,
    pub title: String,
    pub severity_label: String,
    pub resource: String,
    pub record_state: String,
    pub workflow_status: String,
    pub remediation: Option<String>,
}

/// Active, not suppressed Security Hub findings as ours (informational dropped).
pub fn hub_findings(all: &[HubFinding]) -> Vec<Finding> {
    all.iter()
        .filter(|h| {
            h.record_state == "ACTIVE"
                && h.workflow_status != "SUPPRESSED"
                && h.workflow_status != "RESOLVED"
        })
        .filter_map(|h| {
            let severity = match h.severity_label.as_str() {
                "CRITICAL" => Severity::Critical,
                "HIGH" => Severity::High,
                "MEDIUM" => Severity::Medium,
                "LOW" => Severity::Low,
                _ => return None,
            };
            Some(Finding {
                check: format!("securityhub.{}", h.id.rsplit('/').next().unwrap_or(&h.id)),
                title: h.title.clone(),
                resource: h.resource.clone(),
                severity,
                detail: format!("Security Hub finding {}", h.id),
                recommendation: h
                    .remediation
                    .clone()
                    .unwrap_or_else(|| "See the finding in Security Hub".into()),
                monthly_savings_usd: None,
            })
        })
        .collect()
}

/// 100 minus weighted findings, floored at 0.
pub fn score(findings: &[Finding]) -> i64 {
    let penalty: i64 = findings
        .iter()
        .map(|f| match f.severity {
            Severity::Critical => 20,
            Severity::High => 10,
            Severity::Medium => 4,
            Severity::Low => 1,
        })
        .sum();
    (100 - penalty).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(proto: &str, from: i32, to: i32) -> OpenRule {
        OpenRule {
            group_id: "sg-1".into(),
            group_name: "g".into(),
            protocol: proto.into(),
            from_port: Some(from),
            to_port: Some(to),
            cidr: "0.0.0.0/0".into(),
        }
    }

    #[test]
    fn security_group_severities() {
        let sev = |r: OpenRule| security_group_findings(&[r]).first().map(|f| f.severity);
        assert_eq!(sev(rule("tcp", 22, 22)), Some(Severity::Critical));
        assert_eq!(
            sev(rule("tcp", 3000, 4000)),
            Some(Severity::Critical),
            "a range over 3389"
        );
        assert_eq!(
            sev(rule("-1", 0, 0)),
            Some(Severity::Critical),
            "all traffic"
        );
        assert_eq!(sev(rule("tcp", 5432, 5432)), Some(Severity::High));
        assert_eq!(sev(rule("tcp", 8080, 8080)), Some(Severity::Medium));
        assert_eq!(sev(rule("tcp", 443, 443)), None);
        assert_eq!(sev(rule("tcp", 80, 80)), None);
        assert_eq!(
            sev(rule("tcp", 80, 443)),
            Some(Severity::Medium),
            "a range is more than 80 and 443"
        );
    }

    #[test]
    fn bucket_policy_rds_lambda_and_score() {
        let b = BucketFacts {
            id: "a".into(),
            name: "b".into(),
            policy_public: true,
            acl_public: false,
            public_access_block_complete: None,
            default_encryption: false,
        };
        let checks: Vec<_> = bucket_findings(&b)
            .into_iter()
            .map(|f| (f.check, f.severity))
            .collect();
        assert_eq!(
            checks,
            vec![
                ("s3.public_bucket".into(), Severity::Critical),
                ("s3.public_access_block".into(), Severity::Medium),
                ("s3.default_encryption".into(), Severity::Low)
            ]
        );
        let safe = BucketFacts {
            policy_public: false,
            public_access_block_complete: Some(true),
            default_encryption: true,
            ..b
        };
        assert!(bucket_findings(&safe).is_empty());
        let admin = PolicyFacts {
            name: "p".into(),
            attached: true,
            statements: vec![Statement {
                allow: true,
                actions: vec!["*".into()],
                resources: vec!["*".into()],
            }],
        };
        assert_eq!(policy_findings(&admin)[0].severity, Severity::Critical);
        assert_eq!(
            policy_findings(&PolicyFacts {
                attached: false,
                ..admin.clone()
            })[0]
                .severity,
            Severity::High
        );
        let svc = PolicyFacts {
            name: "s".into(),
            attached: true,
            statements: vec![Statement {
                allow: true,
                actions: vec!["iam:*".into()],
                resources: vec!["*".into()],
            }],
        };
        assert_eq!(policy_findings(&svc)[0].check, "iam.service_wildcard");
        let scoped = PolicyFacts {
            name: "ok".into(),
            attached: true,
            statements: vec![Statement {
                allow: true,
                actions: vec!["s3:GetObject".into()],
                resources: vec!["arn:aws:s3:::b/*".into()],
            }],
        };
        assert!(policy_findings(&scoped).is_empty());
        assert_eq!(
            rds_findings(&RdsFacts {
                id: "d".into(),
                public: true,
                encrypted: false
            })
            .len(),
            2
        );
        assert!(
            lambda_findings(&LambdaFacts {
                id: "f".into(),
                url_auth: Some("AWS_IAM".into()),
                runtime: Some("python3.12".into())
            })
            .is_empty()
        );
        assert_eq!(
            lambda_findings(&LambdaFacts {
                id: "f".into(),
                url_auth: Some("NONE".into()),
                runtime: Some("python3.7".into())
            })
            .len(),
            2
        );
        let all = security_group_findings(&[rule("tcp", 22, 22)]);
        assert_eq!(score(&all), 80);
        let many: Vec<Finding> = std::iter::repeat_n(all[0].clone(), 7).collect();
        assert_eq!(score(&many), 0, "floored");
    }

    #[test]
    fn security_hub_findings_are_filtered_and_mapped() {
        let h = |state: &str, wf: &str, sev: &str| HubFinding {
            id: "arn/x/1".into(),
            title: "t".into(),
            severity_label: sev.into(),
            resource: "r".into(),
            record_state: state.into(),
            workflow_status: wf.into(),
            remediation: None,
        };
        let got = hub_findings(&[
            h("ACTIVE", "NEW", "HIGH"),
            h("ARCHIVED", "NEW", "HIGH"),
            h("ACTIVE", "SUPPRESSED", "CRITICAL"),
            h("ACTIVE", "NOTIFIED", "INFORMATIONAL"),
            h("ACTIVE", "NOTIFIED", "LOW"),
        ]);
        assert_eq!(
            got.iter().map(|f| f.severity).collect::<Vec<_>>(),
            vec![Severity::High, Severity::Low]
        );
    }
}
