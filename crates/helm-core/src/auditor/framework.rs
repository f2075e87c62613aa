//! The compliance view of `audit --type compliance --framework cis-3.0|fsbp`: every
//! control of the framework, each pass, fail, not evaluated (with the reason) or manual,
//! decided from the checks that map to it, and the percentage over the evaluated ones.
//! A control no check of ours decides is never a pass: it is manual where the framework
//! itself says so, and not evaluated ("no helm-cloud check") where it does not.

use super::catalogue::CATALOGUE;
use serde::Serialize;
use serde_json::{Value, json};

/// A control of a framework: (id, title, assessed by a person in the framework itself).
pub type ControlDef = (&'static str, &'static str, bool);

/// CIS Amazon Web Services Foundations Benchmark v3.0.0, every recommendation.
pub const CIS_3_0: &[ControlDef] = &[
    ("1.1", "Maintain current contact details", true),
    (
        "1.2",
        "Ensure security contact information is registered",
        true,
    ),
    (
        "1.3",
        "Ensure security questions are registered in the AWS account",
        true,
    ),
    (
        "1.4",
        "Ensure no 'root' user account access key exists",
        false,
    ),
    (
        "1.5",
        "Ensure MFA is enabled for the 'root' user account",
        false,
    ),
    (
        "1.6",
        "Ensure hardware MFA is enabled for the 'root' user account",
        true,
    ),
    (
        "1.7",
        "Eliminate use of the 'root' user for administrative and daily tasks",
        true,
    ),
    (
        "1.8",
        "Ensure IAM password policy requires minimum length of 14 or greater",
        false,
    ),
    (
        "1.9",
        "Ensure IAM password policy prevents password reuse",
        false,
    ),
    (
        "1.10",
        "Ensure multi-factor authentication (MFA) is enabled for all IAM users that have a console password",
        false,
    ),
    (
        "1.11",
        "Do not setup access keys during initial user setup for all IAM users that have a console password",
        true,
    ),
    (
        "1.12",
        "Ensure credentials unused for 45 days or greater are disabled",
        false,
    ),
    (
        "1.13",
        "Ensure there is only one active access key available for any single IAM user",
        false,
    ),
    (
        "1.14",
        "Ensure access keys are rotated every 90 days or less",
        false,
    ),
    (
        "1.15",
        "Ensure IAM Users Receive Permissions Only Through Groups",
        false,
    ),
    (
        "1.16",
        "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached",
        false,
    ),
    (
        "1.17",
        "Ensure a support role has been created to manage incidents with AWS Support",
        false,
    ),
    (
        "1.18",
        "Ensure IAM instance roles are used for AWS resource access from instances",
        true,
    ),
    (
        "1.19",
        "Ensure that all the expired SSL/TLS certificates stored in AWS IAM are removed",
        false,
    ),
    (
        "1.20",
        "Ensure that IAM Access analyzer is enabled for all regions",
        false,
    ),
    (
        "1.21",
        "Ensure IAM users are managed centrally via identity federation or AWS Organizations for multi-account environments",
        true,
    ),
    (
        "1.22",
        "Ensure access to AWSCloudShellFullAccess is restricted",
        true,
    ),
    (
        "2.1.1",
        "Ensure S3 Bucket Policy is set to deny HTTP requests",
        false,
    ),
    ("2.1.2", "Ensure MFA Delete is enabled on S3 buckets", true),
    (
        "2.1.3",
        "Ensure all data in Amazon S3 has been discovered, classified and secured when required",
        true,
    ),
    (
        "2.1.4",
        "Ensure that S3 Buckets are configured with 'Block public access (bucket settings)'",
        false,
    ),
    (
        "2.2.1",
        "Ensure EBS Volume Encryption is Enabled in all Regions",
        false,
    ),
    (
        "2.3.1",
        "Ensure that encryption-at-rest is enabled for RDS Instances",
        false,
    ),
    (
        "2.3.2",
        "Ensure Auto Minor Version Upgrade feature is Enabled for RDS Instances",
        false,
    ),
    (
        "2.3.3",
        "Ensure that public access is not given to RDS Instance",
        false,
    ),
    (
        "2.4.1",
        "Ensure that encryption is enabled for EFS file systems",
        false,
    ),
    ("3.1", "Ensure CloudTrail is enabled in all regions", false),
    (
        "3.2",
        "Ensure CloudTrail log file validation is enabled",
        false,
    ),
    ("3.3", "Ensure AWS Config is enabled in all regions", false),
    (
        "3.4",
        "Ensure that S3 Bucket Access Logging is enabled on the CloudTrail S3 bucket",
        false,
    ),
    (
        "3.5",
        "Ensure CloudTrail logs are encrypted at rest using KMS CMKs",
        false,
    ),
    (
        "3.6",
        "Ensure rotation for customer-created symmetric CMKs is enabled",
        false,
    ),
    (
        "3.7",
        "Ensure VPC flow logging is enabled in all VPCs",
        false,
    ),
    (
        "3.8",
        "Ensure that Object-level logging for write events is enabled for S3 bucket",
        false,
    ),
    (
        "3.9",
        "Ensure that Object-level logging for read events is enabled for S3 bucket",
        false,
    ),
    ("4.1", "Ensure unauthorized API calls are monitored", false),
    (
        "4.2",
        "Ensure management console sign-in without MFA is monitored",
        false,
    ),
    (
        "4.3",
        "Ensure usage of the 'root' account is monitored",
        false,
    ),
    ("4.4", "Ensure IAM policy changes are monitored", false),
    (
        "4.5",
        "Ensure CloudTrail configuration changes are monitored",
        false,
    ),
    (
        "4.6",
        "Ensure AWS Management Console authentication failures are monitored",
        false,
    ),
    (
        "4.7",
        "Ensure disabling or scheduled deletion of customer created CMKs is monitored",
        false,
    ),
    (
        "4.8",
        "Ensure S3 bucket policy changes are monitored",
        false,
    ),
    (
        "4.9",
        "Ensure AWS Config configuration changes are monitored",
        false,
    ),
    ("4.10", "Ensure security group changes are monitored", false),
    (
        "4.11",
        "Ensure Network Access Control Lists (NACL) changes are monitored",
        false,
    ),
    (
        "4.12",
        "Ensure changes to network gateways are monitored",
        false,
    ),
    ("4.13", "Ensure route table changes are monitored", false),
    ("4.14", "Ensure VPC changes are monitored", false),
    (
        "4.15",
        "Ensure AWS Organizations changes are monitored",
        false,
    ),
    ("4.16", "Ensure AWS Security Hub is enabled", false),
    (
        "5.1",
        "Ensure no Network ACLs allow ingress from 0.0.0.0/0 to remote server administration ports",
        false,
    ),
    (
        "5.2",
        "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports",
        false,
    ),
    (
        "5.3",
        "Ensure no security groups allow ingress from ::/0 to remote server administration ports",
        false,
    ),
    (
        "5.4",
        "Ensure the default security group of every VPC restricts all traffic",
        false,
    ),
    (
        "5.5",
        "Ensure routing tables for VPC peering are \"least access\"",
        true,
    ),
    (
        "5.6",
        "Ensure that EC2 Metadata Service only allows IMDSv2",
        false,
    ),
];

/// AWS Foundational Security Best Practices: the controls of the services helm-cloud reads
/// (FSBP has some 300 controls over every AWS service; those of services helm-cloud never
/// reads are not listed, rather than listed as not evaluated).
pub const FSBP: &[ControlDef] = &[
    (
        "AutoScaling.3",
        "Auto Scaling group launch configurations should configure EC2 instances to require Instance Metadata Service Version 2 (IMDSv2)",
        false,
    ),
    (
        "ELB.1",
        "Application Load Balancer should be configured to redirect all HTTP requests to HTTPS",
        false,
    ),
    (
        "ElastiCache.4",
        "ElastiCache replication groups should be encrypted at rest",
        false,
    ),
    (
        "ElastiCache.5",
        "ElastiCache replication groups should be encrypted in transit",
        false,
    ),
    (
        "Kinesis.1",
        "Kinesis streams should be encrypted at rest",
        false,
    ),
    (
        "SNS.1",
        "SNS topics should be encrypted at-rest using AWS KMS",
        false,
    ),
    (
        "CloudTrail.1",
        "CloudTrail should be enabled and configured with at least one multi-Region trail that includes read and write management events",
        false,
    ),
    (
        "CloudTrail.2",
        "CloudTrail should have encryption at-rest enabled",
        false,
    ),
    (
        "CloudTrail.4",
        "CloudTrail log file validation should be enabled",
        false,
    ),
    (
        "CloudTrail.5",
        "CloudTrail trails should be integrated with Amazon CloudWatch Logs",
        false,
    ),
    (
        "CloudTrail.7",
        "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket",
        false,
    ),
    (
        "Config.1",
        "AWS Config should be enabled and use the service-linked role for resource recording",
        false,
    ),
    (
        "EC2.1",
        "Amazon EBS snapshots should not be publicly restorable",
        false,
    ),
    (
        "EC2.2",
        "VPC default security groups should not allow inbound or outbound traffic",
        false,
    ),
    (
        "EC2.3",
        "Attached Amazon EBS volumes should be encrypted at-rest",
        false,
    ),
    (
        "EC2.6",
        "VPC flow logging should be enabled in all VPCs",
        false,
    ),
    ("EC2.7", "EBS default encryption should be enabled", false),
    (
        "EC2.8",
        "EC2 instances should use Instance Metadata Service Version 2 (IMDSv2)",
        false,
    ),
    (
        "EC2.13",
        "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port 22",
        false,
    ),
    (
        "EC2.18",
        "Security groups should only allow unrestricted incoming traffic for authorized ports",
        false,
    ),
    (
        "EC2.19",
        "Security groups should not allow unrestricted access to ports with high risk",
        false,
    ),
    (
        "EC2.21",
        "Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389",
        false,
    ),
    (
        "ECS.8",
        "Secrets should not be passed as container environment variables",
        false,
    ),
    ("GuardDuty.1", "GuardDuty should be enabled", false),
    (
        "IAM.1",
        "IAM policies should not allow full \"*\" administrative privileges",
        false,
    ),
    (
        "IAM.2",
        "IAM users should not have IAM policies attached",
        false,
    ),
    (
        "IAM.3",
        "IAM users' access keys should be rotated every 90 days or less",
        false,
    ),
    ("IAM.4", "IAM root user access key should not exist", false),
    (
        "IAM.5",
        "MFA should be enabled for all IAM users that have a console password",
        false,
    ),
    (
        "IAM.6",
        "Hardware MFA should be enabled for the root user",
        false,
    ),
    (
        "IAM.7",
        "Password policies for IAM users should have strong configurations",
        false,
    ),
    (
        "IAM.8",
        "Unused IAM user credentials should be removed",
        false,
    ),
    ("IAM.9", "MFA should be enabled for the root user", false),
    (
        "IAM.11",
        "Ensure IAM password policy requires at least one uppercase letter",
        false,
    ),
    (
        "IAM.12",
        "Ensure IAM password policy requires at least one lowercase letter",
        false,
    ),
    (
        "IAM.13",
        "Ensure IAM password policy requires at least one symbol",
        false,
    ),
    (
        "IAM.14",
        "Ensure IAM password policy requires at least one number",
        false,
    ),
    (
        "IAM.15",
        "Ensure IAM password policy requires minimum password length of 14 or greater",
        false,
    ),
    (
        "IAM.16",
        "Ensure IAM password policy prevents password reuse",
        false,
    ),
    (
        "IAM.17",
        "Ensure IAM password policy expires passwords within 90 days or less",
        false,
    ),
    ("IAM.19", "MFA should be enabled for all IAM users", false),
    (
        "IAM.21",
        "IAM customer managed policies that you create should not allow wildcard actions for services",
        false,
    ),
    (
        "IAM.22",
        "IAM user credentials unused for 45 days should be removed",
        false,
    ),
    ("KMS.4", "AWS KMS key rotation should be enabled", false),
    (
        "Lambda.1",
        "Lambda function policies should prohibit public access",
        false,
    ),
    (
        "Lambda.2",
        "Lambda functions should use supported runtimes",
        false,
    ),
    ("RDS.1", "RDS snapshot should be private", false),
    (
        "RDS.2",
        "RDS DB Instances should prohibit public access, as determined by the PubliclyAccessible configuration",
        false,
    ),
    (
        "RDS.3",
        "RDS DB instances should have encryption at-rest enabled",
        false,
    ),
    (
        "RDS.8",
        "RDS DB instances should have deletion protection enabled",
        false,
    ),
    (
        "RDS.11",
        "RDS instances should have automatic backups enabled",
        false,
    ),
    (
        "RDS.13",
        "RDS automatic minor version upgrades should be enabled",
        false,
    ),
    (
        "S3.1",
        "S3 general purpose buckets should have block public access settings enabled",
        false,
    ),
    (
        "S3.2",
        "S3 general purpose buckets should block public read access",
        false,
    ),
    (
        "S3.3",
        "S3 general purpose buckets should block public write access",
        false,
    ),
    (
        "S3.5",
        "S3 general purpose buckets should require requests to use SSL",
        false,
    ),
    (
        "S3.8",
        "S3 general purpose buckets should block public access",
        false,
    ),
    (
        "S3.9",
        "S3 general purpose buckets should have server access logging enabled",
        false,
    ),
    (
        "S3.14",
        "S3 general purpose buckets should have versioning enabled",
        false,
    ),
    (
        "SecretsManager.1",
        "Secrets Manager secrets should have automatic rotation enabled",
        false,
    ),
];

/// The account-level compliance controls (`cis.<id>` checks) and the FSBP controls they
/// decide (their CIS number is in `compliance::CONTROLS`).
const COMPLIANCE_FSBP: &[(&str, &[&str])] = &[
    ("iam_password_policy", &["IAM.15"]),
    ("root_mfa", &["IAM.9"]),
    ("root_access_keys", &["IAM.4"]),
    ("cloudtrail_multi_region", &["CloudTrail.1"]),
    ("s3_account_public_access_block", &["S3.1"]),
    ("sg_admin_ports", &["EC2.13"]),
    ("ebs_default_encryption", &["EC2.7"]),
    ("vpc_flow_logs", &["EC2.6"]),
    ("rds_storage_encryption", &["RDS.3"]),
    ("config_recording", &["Config.1"]),
];

/// `cis-3.0` or `fsbp`: its title and controls.
pub fn framework(name: &str) -> Option<(&'static str, &'static [ControlDef])> {
    match name {
        "cis-3.0" => Some(("CIS AWS Foundations Benchmark v3.0.0", CIS_3_0)),
        "fsbp" => Some(("AWS Foundational Security Best Practices", FSBP)),
        _ => None,
    }
}

pub const NAMES: [&str; 2] = ["cis-3.0", "fsbp"];

/// The checks that decide `control` of `name`.
pub fn checks_for(name: &str, control: &str) -> Vec<String> {
    let mut out: Vec<String> = CATALOGUE
        .iter()
        .filter(|c| match name {
            "cis-3.0" => c.cis.contains(&control),
            _ => c.fsbp.contains(&control),
        })
        .map(|c| c.id.to_string())
        .collect();
    for (id, cis, ..) in super::compliance::CONTROLS {
        let maps = match name {
            "cis-3.0" => *cis == control,
            _ => COMPLIANCE_FSBP
                .iter()
                .any(|(c, f)| c == id && f.contains(&control)),
        };
        if maps {
            out.push(format!("cis.{id}"));
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    NotEvaluated,
    Manual,
}

/// What the audit knows, for the framework view.
pub struct Evidence<'a> {
    /// (check, resource) of every finding, suppressed ones too (a suppressed finding is
    /// accepted, not passed).
    pub failed: &'a [(String, String)],
    /// Whether a check was evaluated in this run.
    pub evaluated: &'a dyn Fn(&str) -> bool,
    /// The report's not-evaluated lines (a reason is looked up by check id in them).
    pub not_evaluated: &'a [String],
    /// Whether the account sweep ran (`--scope account`).
    pub account_scope: bool,
}

/// The framework view: every control with its status, the counts and the percentage
/// (passed over evaluated, None when nothing was).
pub fn evaluate(name: &str, ev: &Evidence) -> Option<Value> {
    let (title, controls) = framework(name)?;
    let swept: std::collections::HashSet<&str> = super::account::REGION_FAMILIES
        .iter()
        .chain(super::account::WIDE_FAMILIES)
        .flat_map(|f| f.iter().copied())
        .collect();
    let mut rows = Vec::new();
    let mut counts = [0usize; 4];
    for (id, ctitle, manual) in controls {
        let checks = checks_for(name, id);
        let failing: Vec<String> = ev
            .failed
            .iter()
            .filter(|(c, _)| checks.contains(c))
            .map(|(c, r)| format!("{c} on {r}"))
            .collect();
        let unevaluated: Vec<&String> = checks.iter().filter(|c| !(ev.evaluated)(c)).collect();
        let (status, detail) = if checks.is_empty() {
            if *manual {
                (
                    Status::Manual,
                    "assessed by a person (the framework marks it manual)".to_string(),
                )
            } else {
                (
                    Status::NotEvaluated,
                    "helm-cloud has no check for this control".to_string(),
                )
            }
        } else if !failing.is_empty() {
            (Status::Fail, failing.join("; "))
        } else if unevaluated.is_empty() {
            (Status::Pass, format!("passed: {}", checks.join(", ")))
        } else {
            let why: Vec<String> = unevaluated
                .iter()
                .map(|c| {
                    ev.not_evaluated
                        .iter()
                        .find(|n| n.contains(c.as_str()))
                        .cloned()
                        .unwrap_or_else(|| {
                            if swept.contains(c.as_str()) && !ev.account_scope {
                                format!("{c}: read by --scope account only")
                            } else {
                                format!("{c}: not evaluated in this run")
                            }
                        })
                })
                .collect();
            (Status::NotEvaluated, why.join("; "))
        };
        counts[status as usize] += 1;
        rows.push(json!({"id": id, "title": ctitle, "status": status, "checks": checks, "detail": detail}));
    }
    let [pass, fail, not_evaluated, manual] = counts;
    let percentage =
        (pass + fail > 0).then(|| (pass as f64 / (pass + fail) as f64 * 1000.0).round() / 10.0);
    Some(json!({
        "name": name,
        "title": title,
        "controls": rows,
        "counts": {"pass": pass, "fail": fail, "not_evaluated": not_evaluated, "manual": manual, "total": controls.len()},
        "percentage": percentage,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_control_id_is_a_control_of_its_framework() {
        for c in CATALOGUE {
            for id in c.cis {
                assert!(CIS_3_0.iter().any(|(x, ..)| x == id), "{}: CIS {id}", c.id);
            }
            for id in c.fsbp {
                assert!(FSBP.iter().any(|(x, ..)| x == id), "{}: FSBP {id}", c.id);
            }
        }
        for (_, cis, ..) in super::super::compliance::CONTROLS {
            assert!(
                CIS_3_0.iter().any(|(x, ..)| x == cis),
                "compliance CIS {cis}"
            );
        }
        for (_, f) in COMPLIANCE_FSBP {
            for id in *f {
                assert!(FSBP.iter().any(|(x, ..)| x == id), "{id}");
            }
        }
        let mut ids: Vec<&str> = CIS_3_0.iter().map(|c| c.0).collect();
        ids.dedup();
        assert_eq!(ids.len(), CIS_3_0.len());
    }

    #[test]
    fn a_control_passes_only_when_every_check_of_it_was_evaluated_and_none_failed() {
        let failed = vec![("iam.key_not_rotated".to_string(), "user bob".to_string())];
        let not_eval = vec![
            "security: iam.root_used: the credential report has no <root_account> row".to_string(),
        ];
        let evaluated = |c: &str| c != "iam.root_used" && c != "kms.rotation_off";
        let view = evaluate(
            "cis-3.0",
            &Evidence {
                failed: &failed,
                evaluated: &evaluated,
                not_evaluated: &not_eval,
                account_scope: false,
            },
        )
        .unwrap();
        let status = |id: &str| {
            view["controls"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == id)
                .map(|c| {
                    (
                        c["status"].as_str().unwrap().to_string(),
                        c["detail"].as_str().unwrap().to_string(),
                    )
                })
                .unwrap()
        };
        assert_eq!(status("1.14").0, "fail");
        assert!(status("1.14").1.contains("user bob"));
        assert_eq!(status("1.12").0, "pass");
        // 1.7 has a check that was not evaluated: the report's reason is given.
        assert_eq!(status("1.7").0, "not_evaluated");
        assert!(
            status("1.7").1.contains("<root_account>"),
            "{:?}",
            status("1.7")
        );
        assert_eq!(status("3.6").0, "not_evaluated");
        assert!(status("3.6").1.contains("--scope account"));
        // No check: manual where CIS says so, not evaluated otherwise; never a pass.
        assert_eq!(status("1.1").0, "manual");
        assert_eq!(
            status("4.1"),
            (
                "not_evaluated".into(),
                "helm-cloud has no check for this control".into()
            )
        );
        let counts = &view["counts"];
        let pass = counts["pass"].as_u64().unwrap() as f64;
        let fail = counts["fail"].as_u64().unwrap() as f64;
        assert_eq!(
            view["percentage"].as_f64().unwrap(),
            (pass / (pass + fail) * 1000.0).round() / 10.0
        );
        assert_eq!(
            counts["pass"].as_u64().unwrap()
                + counts["fail"].as_u64().unwrap()
                + counts["not_evaluated"].as_u64().unwrap()
                + counts["manual"].as_u64().unwrap(),
            CIS_3_0.len() as u64
        );
        // Nothing evaluated: no percentage.
        let none = |_: &str| false;
        let empty = evaluate(
            "fsbp",
            &Evidence {
                failed: &[],
                evaluated: &none,
                not_evaluated: &[],
                account_scope: true,
            },
        )
        .unwrap();
        assert!(empty["percentage"].is_null());
        assert!(
            evaluate(
                "nist",
                &Evidence {
                    failed: &[],
                    evaluated: &none,
                    not_evaluated: &[],
                    account_scope: true
                }
            )
            .is_none()
        );
    }
}
