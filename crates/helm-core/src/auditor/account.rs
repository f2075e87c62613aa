//! The account sweep (`audit --scope account`): every volume, snapshot, database, key, log
//! group, function and secret of a region, read in one pass per region, and the checks on
//! them. The adapter reads; this decides. A family that could not be read is one
//! not-evaluated line, never a pass.

use super::{Finding, Severity};
use crate::ports::Failure;

/// An EBS volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub id: String,
    pub encrypted: bool,
    pub attached_to: Option<String>,
}

/// An EBS or RDS snapshot the account owns.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub id: String,
    pub encrypted: bool,
    /// Restorable by every AWS account (`createVolumePermission` / `restore` = all).
    pub public: bool,
}

/// What the sweep reads of a DB instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    pub id: String,
    pub backup_retention_days: i32,
    pub deletion_protection: bool,
    pub auto_minor_version_upgrade: bool,
}

/// A customer-managed, enabled, symmetric KMS key and its rotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub id: String,
    pub rotation: bool,
}

/// A CloudWatch Logs group and whether a KMS key encrypts it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogGroup {
    pub name: String,
    pub kms: bool,
}

/// An environment variable that looks like a secret: its name and why, never its value.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretVar {
    pub name: String,
    pub why: &'static str,
}

/// A Lambda function or ECS task definition and its secret-looking variables.
#[derive(Debug, Clone, PartialEq)]
pub struct Environ {
    pub id: String,
    pub secrets: Vec<SecretVar>,
}

/// A Secrets Manager secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    pub name: String,
    pub rotation: bool,
}

/// One region as the sweep read it: each family its own result.
#[derive(Debug)]
pub struct RegionSweep {
    pub region: String,
    pub volumes: Result<Vec<Volume>, Failure>,
    pub snapshots: Result<Vec<Snapshot>, Failure>,
    pub databases: Result<Vec<Database>, Failure>,
    pub db_snapshots: Result<Vec<Snapshot>, Failure>,
    pub keys: Result<Vec<Key>, Failure>,
    pub log_groups: Result<Vec<LogGroup>, Failure>,
    /// GuardDuty: some detector enabled.
    pub guardduty: Result<bool, Failure>,
    pub functions: Result<Vec<Environ>, Failure>,
    pub task_definitions: Result<Vec<Environ>, Failure>,
    pub secrets: Result<Vec<Secret>, Failure>,
}

/// Why a variable's name or value looks like a secret (None: it does not). A value that
/// refers to a secret store is not one.
pub fn secret_shape(name: &str, value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.is_empty()
        || [
            "arn:aws:secretsmanager:",
            "arn:aws:ssm:",
            "{{resolve:",
            "ssm:",
        ]
        .iter()
        .any(|p| v.starts_with(p))
    {
        return None;
    }
    let shaped = |s: &str| -> Option<&'static str> {
        let upper_alnum = |t: &str| {
            t.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        };
        if (s.starts_with("AKIA") || s.starts_with("ASIA")) && s.len() == 20 && upper_alnum(s) {
            return Some("an AWS access key id");
        }
        if s.contains("-----BEGIN") && s.contains("PRIVATE KEY") {
            return Some("a private key");
        }
        if let Some((scheme, rest)) = s.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
            && let Some((userinfo, _)) = rest.split_once('@')
            && userinfo.contains(':')
            && !userinfo.contains('/')
        {
            return Some("a connection string with a password");
        }
        for (p, what) in [
            ("ghp_", "a GitHub token"),
            ("gho_", "a GitHub token"),
            ("github_pat_", "a GitHub token"),
            ("xoxb-", "a Slack token"),
            ("xoxp-", "a Slack token"),
            ("xoxa-", "a Slack token"),
            ("sk_live_", "a Stripe key"),
            ("glpat-", "a GitLab token"),
        ] {
            if s.starts_with(p) && s.len() > p.len() + 8 {
                return Some(what);
            }
        }
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() == 3 && s.starts_with("eyJ") && parts.iter().all(|p| p.len() >= 4) {
            return Some("a JSON Web Token");
        }
        None
    };
    if let Some(why) = shaped(v) {
        return Some(why);
    }
    let n = name.to_ascii_lowercase().replace('-', "_");
    const NAMES: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "private_key",
        "access_key",
        "credential",
        "conn_str",
        "connection_string",
        "dsn",
    ];
    // A flag or a length is not a secret: `TOKEN_TTL=3600`, `USE_PASSWORD=true`.
    let plain = v.len() < 8
        || v.chars().all(|c| c.is_ascii_digit())
        || [
            "true", "false", "yes", "no", "none", "null", "disabled", "enabled",
        ]
        .contains(&v.to_ascii_lowercase().as_str());
    (NAMES.iter().any(|k| n.contains(k)) && !plain).then_some("a secret-like name with a value")
}

fn finding(
    check: &str,
    title: &str,
    severity: Severity,
    resource: String,
    detail: String,
    fix: &str,
) -> Finding {
    Finding {
        check: check.into(),
        title: title.into(),
        resource,
        severity,
        detail,
        recommendation: fix.into(),
        monthly_savings_usd: None,
    }
}

/// The findings of one region's sweep.
pub fn findings(s: &RegionSweep) -> Vec<Finding> {
    let r = &s.region;
    let mut out = Vec::new();
    for v in s.volumes.iter().flatten().filter(|v| !v.encrypted) {
        out.push(finding(
            "ebs.unencrypted_volume",
            "EBS volume not encrypted",
            Severity::Medium,
            format!("{} ({r})", v.id),
            match &v.attached_to {
                Some(i) => format!("Encrypted is false; attached to {i}"),
                None => "Encrypted is false; not attached".into(),
            },
            "Snapshot it, copy the snapshot with encryption, and replace the volume from the copy",
        ));
    }
    for sn in s.snapshots.iter().flatten() {
        if sn.public {
            out.push(finding(
                "ebs.public_snapshot",
                "EBS snapshot restorable by anyone",
                Severity::Critical,
                format!("{} ({r})", sn.id),
                "createVolumePermission grants group all".into(),
                "Remove the public permission from the snapshot",
            ));
        }
        if !sn.encrypted {
            out.push(finding(
                "ebs.unencrypted_snapshot",
                "EBS snapshot not encrypted",
                Severity::Medium,
                format!("{} ({r})", sn.id),
                "Encrypted is false".into(),
                "Copy the snapshot with encryption and delete the unencrypted one",
            ));
        }
    }
    for d in s.databases.iter().flatten() {
        let res = || format!("{} ({r})", d.id);
        if d.backup_retention_days == 0 {
            out.push(finding(
                "rds.backups_off",
                "Database automated backups off",
                Severity::High,
                res(),
                "BackupRetentionPeriod is 0".into(),
                "Set a backup retention period of at least 7 days",
            ));
        }
        if !d.deletion_protection {
            out.push(finding(
                "rds.deletion_protection_off",
                "Database deletion protection off",
                Severity::Low,
                res(),
                "DeletionProtection is false".into(),
                "Turn on deletion protection",
            ));
        }
        if !d.auto_minor_version_upgrade {
            out.push(finding(
                "rds.minor_upgrade_off",
                "Database minor-version upgrades off",
                Severity::Low,
                res(),
                "AutoMinorVersionUpgrade is false".into(),
                "Turn on automatic minor version upgrades",
            ));
        }
    }
    for sn in s.db_snapshots.iter().flatten().filter(|x| x.public) {
        out.push(finding(
            "rds.public_snapshot",
            "Database snapshot restorable by anyone",
            Severity::Critical,
            format!("{} ({r})", sn.id),
            "the restore attribute includes all".into(),
            "Remove `all` from the snapshot's restore attribute",
        ));
    }
    for k in s.keys.iter().flatten().filter(|k| !k.rotation) {
        out.push(finding(
            "kms.rotation_off",
            "KMS key rotation off",
            Severity::Medium,
            format!("{} ({r})", k.id),
            "automatic rotation is disabled on a customer-managed symmetric key".into(),
            "Enable automatic key rotation",
        ));
    }
    for g in s.log_groups.iter().flatten().filter(|g| !g.kms) {
        out.push(finding(
            "logs.unencrypted_group",
            "Log group not encrypted with a KMS key",
            Severity::Low,
            format!("{} ({r})", g.name),
            "no kmsKeyId".into(),
            "Associate a KMS key with the log group",
        ));
    }
    if let Ok(false) = s.guardduty {
        out.push(finding(
            "guardduty.disabled",
            "GuardDuty not enabled",
            Severity::High,
            format!("account ({r})"),
            format!("no enabled GuardDuty detector in {r}"),
            "Enable GuardDuty in every region",
        ));
    }
    for (list, check, title, what) in [
        (
            &s.functions,
            "lambda.env_secret",
            "Secret in Lambda environment variables",
            "function",
        ),
        (
            &s.task_definitions,
            "ecs.env_secret",
            "Secret in ECS task definition environment",
            "task definition",
        ),
    ] {
        for e in list.iter().flatten().filter(|e| !e.secrets.is_empty()) {
            let names: Vec<String> = e
                .secrets
                .iter()
                .map(|v| format!("{} ({})", v.name, v.why))
                .collect();
            out.push(finding(
                check,
                title,
                Severity::High,
                format!("{} ({r})", e.id),
                format!(
                    "{what} variables that look like secrets: {} (values not shown)",
                    names.join(", ")
                ),
                "Move the values to Secrets Manager or SSM Parameter Store and reference them",
            ));
        }
    }
    for sec in s.secrets.iter().flatten().filter(|x| !x.rotation) {
        out.push(finding(
            "secretsmanager.rotation_off",
            "Secret without automatic rotation",
            Severity::Medium,
            format!("{} ({r})", sec.name),
            "RotationEnabled is false".into(),
            "Configure a rotation function and schedule",
        ));
    }
    out
}

/// The check prefixes each family decides, with the family's read.
pub fn families(s: &RegionSweep) -> Vec<(&'static [&'static str], Option<&Failure>)> {
    vec![
        (&["ebs.unencrypted_volume"][..], s.volumes.as_ref().err()),
        (
            &["ebs.public_snapshot", "ebs.unencrypted_snapshot"][..],
            s.snapshots.as_ref().err(),
        ),
        (
            &[
                "rds.backups_off",
                "rds.deletion_protection_off",
                "rds.minor_upgrade_off",
            ][..],
            s.databases.as_ref().err(),
        ),
        (&["rds.public_snapshot"][..], s.db_snapshots.as_ref().err()),
        (&["kms.rotation_off"][..], s.keys.as_ref().err()),
        (&["logs.unencrypted_group"][..], s.log_groups.as_ref().err()),
        (&["guardduty.disabled"][..], s.guardduty.as_ref().err()),
        (&["lambda.env_secret"][..], s.functions.as_ref().err()),
        (&["ecs.env_secret"][..], s.task_definitions.as_ref().err()),
        (
            &["secretsmanager.rotation_off"][..],
            s.secrets.as_ref().err(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::FailureKind;

    #[test]
    fn secret_shapes_by_value_and_by_name_never_a_reference_or_a_flag() {
        assert_eq!(
            secret_shape("X", "AKIAIOSFODNN7EXAMPLE"),
            Some("an AWS access key id")
        );
        assert_eq!(
            secret_shape("DATABASE_URL", "postgres://app:hunter2@db:5432/app"),
            Some("a connection string with a password")
        );
        assert_eq!(secret_shape("DATABASE_URL", "postgres://db:5432/app"), None);
        assert_eq!(
            secret_shape("SLACK", "xoxb-123456789012-abcdef"),
            Some("a Slack token")
        );
        assert_eq!(
            secret_shape("T", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
            Some("a JSON Web Token")
        );
        assert_eq!(
            secret_shape("DB_PASSWORD", "correct-horse-battery"),
            Some("a secret-like name with a value")
        );
        assert_eq!(
            secret_shape("api-key", "0123456789abcdef0123"),
            Some("a secret-like name with a value")
        );
        assert_eq!(
            secret_shape(
                "DB_PASSWORD",
                "arn:aws:secretsmanager:us-east-1:1:secret:db"
            ),
            None
        );
        assert_eq!(
            secret_shape("DB_PASSWORD", "{{resolve:secretsmanager:db}}"),
            None
        );
        assert_eq!(secret_shape("TOKEN_TTL", "3600"), None);
        assert_eq!(secret_shape("USE_PASSWORD", "true"), None);
        assert_eq!(secret_shape("LOG_LEVEL", "debug-verbose-mode"), None);
        assert_eq!(
            secret_shape("KEY", "-----BEGIN RSA PRIVATE KEY-----\nMII"),
            Some("a private key")
        );
    }

    fn sweep() -> RegionSweep {
        RegionSweep {
            region: "eu-west-1".into(),
            volumes: Ok(vec![
                Volume {
                    id: "vol-1".into(),
                    encrypted: false,
                    attached_to: None,
                },
                Volume {
                    id: "vol-2".into(),
                    encrypted: true,
                    attached_to: Some("i-1".into()),
                },
            ]),
            snapshots: Ok(vec![Snapshot {
                id: "snap-1".into(),
                encrypted: true,
                public: true,
            }]),
            databases: Ok(vec![Database {
                id: "db".into(),
                backup_retention_days: 0,
                deletion_protection: true,
                auto_minor_version_upgrade: true,
            }]),
            db_snapshots: Ok(vec![]),
            keys: Ok(vec![Key {
                id: "k".into(),
                rotation: true,
            }]),
            log_groups: Err(crate::testing::failure(
                "logs:DescribeLogGroups",
                FailureKind::PermissionDenied,
            )),
            guardduty: Ok(false),
            functions: Ok(vec![Environ {
                id: "api".into(),
                secrets: vec![SecretVar {
                    name: "DB_PASSWORD".into(),
                    why: "a secret-like name with a value",
                }],
            }]),
            task_definitions: Ok(vec![Environ {
                id: "web:3".into(),
                secrets: vec![],
            }]),
            secrets: Ok(vec![Secret {
                name: "db".into(),
                rotation: false,
            }]),
        }
    }

    #[test]
    fn each_family_fails_on_its_own_fact_and_an_unread_family_is_no_finding() {
        let got: Vec<(String, String)> = findings(&sweep())
            .into_iter()
            .map(|f| (f.check, f.resource))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ebs.unencrypted_volume".into(), "vol-1 (eu-west-1)".into()),
                ("ebs.public_snapshot".into(), "snap-1 (eu-west-1)".into()),
                ("rds.backups_off".into(), "db (eu-west-1)".into()),
                ("guardduty.disabled".into(), "account (eu-west-1)".into()),
                ("lambda.env_secret".into(), "api (eu-west-1)".into()),
                (
                    "secretsmanager.rotation_off".into(),
                    "db (eu-west-1)".into()
                ),
            ]
        );
        let s = sweep();
        let unread: Vec<_> = families(&s)
            .into_iter()
            .filter(|(_, e)| e.is_some())
            .map(|(c, _)| c[0])
            .collect();
        assert_eq!(unread, ["logs.unencrypted_group"]);
        let detail = &findings(&s)[4].detail;
        assert!(
            detail.contains("DB_PASSWORD") && detail.contains("values not shown"),
            "{detail}"
        );
    }
}
