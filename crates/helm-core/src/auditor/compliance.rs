//! Compliance controls the APIs can decide, each with its CIS AWS Foundations Benchmark
//! (v3.0.0) id. A control that could not be evaluated is listed as such and never counted
//! as passed: compliance_percentage = passed / evaluated.

use super::{Finding, Severity};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    NotEvaluated,
}

/// One control's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    pub id: &'static str,
    pub cis: &'static str,
    pub title: &'static str,
    pub status: Status,
    pub detail: String,
    #[serde(skip)]
    pub severity: Severity,
    #[serde(skip)]
    pub fix: &'static str,
}

/// What a control was told by the APIs: Ok(Some(pass?, detail)), Ok(None) not applicable,
/// Err(reason) not evaluated.
pub type Evidence = Result<(bool, String), String>;

/// The catalogue: (id, CIS id, title, severity when failed, fix).
pub const CONTROLS: &[(&str, &str, &str, Severity, &str)] = &[
    (
        "iam_password_policy",
        "1.8",
        "IAM password policy requires at least 14 characters",
        Severity::Medium,
        "aws iam update-account-password-policy --minimum-password-length 14 …",
    ),
    (
        "root_mfa",
        "1.5",
        "MFA is enabled for the root user",
        Severity::Critical,
        "Enable MFA (hardware or virtual) on the root user",
    ),
    (
        "root_access_keys",
        "1.4",
        "No root user access keys exist",
        Severity::Critical,
        "Delete the root user's access keys; use IAM roles",
    ),
    (
        "cloudtrail_multi_region",
        "3.1",
        "A multi-region CloudTrail trail is logging",
        Severity::High,
        "Create a multi-region trail and start logging",
    ),
    (
        "s3_account_public_access_block",
        "2.1.4",
        "S3 Block Public Access is on for the account",
        Severity::High,
        "Turn on all four account-level Block Public Access settings",
    ),
    (
        "sg_admin_ports",
        "5.2",
        "No security group allows 0.0.0.0/0 or ::/0 to ports 22 or 3389",
        Severity::Critical,
        "Remove world-open ingress to 22 and 3389",
    ),
    (
        "ebs_default_encryption",
        "2.2.1",
        "EBS default encryption is enabled",
        Severity::Medium,
        "aws ec2 enable-ebs-encryption-by-default (per region)",
    ),
    (
        "vpc_flow_logs",
        "3.7",
        "VPC flow logging is enabled in every VPC",
        Severity::Medium,
        "Create flow logs for each VPC",
    ),
    (
        "rds_storage_encryption",
        "2.3.1",
        "RDS storage is encrypted",
        Severity::Medium,
        "Restore encrypted copies of unencrypted instances",
    ),
    (
        "config_recording",
        "3.3",
        "AWS Config is recording",
        Severity::Medium,
        "Start a configuration recorder with a delivery channel",
    ),
];

/// Evaluate every control from its evidence (by control id; a missing id is not evaluated).
pub fn evaluate(evidence: &[(&str, Evidence)]) -> Vec<Control> {
    CONTROLS
        .iter()
        .map(|(id, cis, title, severity, fix)| {
            let (status, detail) = match evidence.iter().find(|(e, _)| e == id).map(|(_, ev)| ev) {
                Some(Ok((true, d))) => (Status::Pass, d.clone()),
                Some(Ok((false, d))) => (Status::Fail, d.clone()),
                Some(Err(reason)) => (Status::NotEvaluated, reason.clone()),
                None => (Status::NotEvaluated, "no evidence gathered".into()),
            };
            Control {
                id,
                cis,
                title,
                status,
                detail,
                severity: *severity,
                fix,
            }
        })
        .collect()
}

/// passed / evaluated × 100 (None when nothing could be evaluated).
pub fn percentage(controls: &[Control]) -> Option<f64> {
    let evaluated = controls
        .iter()
        .filter(|c| c.status != Status::NotEvaluated)
        .count();
    let passed = controls.iter().filter(|c| c.status == Status::Pass).count();
    (evaluated > 0).then(|| (passed as f64 / evaluated as f64 * 1000.0).round() / 10.0)
}

/// A finding per failed control.
pub fn findings(controls: &[Control]) -> Vec<Finding> {
    controls
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| Finding {
            check: format!("cis.{}", c.id),
            title: format!("CIS {}: {}", c.cis, c.title),
            resource: "account".into(),
            severity: c.severity,
            detail: c.detail.clone(),
            recommendation: c.fix.into(),
            monthly_savings_usd: None,
        })
        .collect()
}

/// An AWS Config rule's compliance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleCompliance {
    pub rule: String,
    /// COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, INSUFFICIENT_DATA.
    pub compliance: String,
}

pub fn rule_findings(rules: &[RuleCompliance]) -> Vec<Finding> {
    rules
        .iter()
        .filter(|r| r.compliance == "NON_COMPLIANT")
        .map(|r| Finding {
            check: format!("config.{}", r.rule),
            title: format!("AWS Config rule {} is non-compliant", r.rule),
            resource: "account".into(),
            severity: Severity::Medium,
            detail: "NON_COMPLIANT".into(),
            recommendation: "See the rule's non-compliant resources in AWS Config".into(),
            monthly_savings_usd: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_evaluated_is_never_passed() {
        let controls = evaluate(&[
            ("root_mfa", Ok((true, "on".into()))),
            ("root_access_keys", Ok((false, "1 key".into()))),
            ("config_recording", Err("the API is not available".into())),
        ]);
        assert_eq!(controls.len(), CONTROLS.len());
        assert_eq!(percentage(&controls), Some(50.0));
        let f = findings(&controls);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "cis.root_access_keys");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(percentage(&evaluate(&[])), None);
    }

    #[test]
    fn non_compliant_rules_become_findings() {
        let r = [
            RuleCompliance {
                rule: "s3-bucket-ssl".into(),
                compliance: "NON_COMPLIANT".into(),
            },
            RuleCompliance {
                rule: "iam-mfa".into(),
                compliance: "COMPLIANT".into(),
            },
        ];
        assert_eq!(rule_findings(&r).len(), 1);
    }
}
