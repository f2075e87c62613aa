//! The account sweep (`audit --scope account`): every volume, snapshot, database, key, log
//! group, function and secret of a region, read in one pass per region, and the checks on
//! them. The adapter reads; this decides. A family that could not be read is one
//! not-evaluated line, never a pass.

use super::security::Statement;
use super::{Finding, Severity};
use crate::ports::Failure;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

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

/// A security group as the network checks need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: String,
    pub name: String,
    /// The VPC's default group (`default`, which cannot be deleted).
    pub default: bool,
    /// Ingress plus egress permissions.
    pub rules: usize,
    /// Its ingress open to 0.0.0.0/0 or ::/0, as `tcp 22`, `all`.
    pub world_open: Vec<String>,
    /// Some network interface uses it.
    pub in_use: bool,
}

/// One ingress entry of a network ACL.
#[derive(Debug, Clone, PartialEq)]
pub struct NaclEntry {
    pub rule: i32,
    pub allow: bool,
    /// The source is 0.0.0.0/0 or ::/0.
    pub world: bool,
    /// `-1` (all), `6` (tcp), `17` (udp), …
    pub protocol: String,
    pub from: Option<i32>,
    pub to: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Nacl {
    pub id: String,
    pub ingress: Vec<NaclEntry>,
}

/// The admin ports (22, 3389) a network ACL lets the world reach: entries are evaluated
/// in rule-number order and the first that matches world traffic to the port decides; an
/// entry for a narrower source does not decide for the world.
pub fn nacl_open_ports(n: &Nacl) -> Vec<i32> {
    let mut entries: Vec<&NaclEntry> = n.ingress.iter().filter(|e| e.world).collect();
    entries.sort_by_key(|e| e.rule);
    [22, 3389]
        .into_iter()
        .filter(|&port| {
            entries
                .iter()
                .find(|e| {
                    e.protocol == "-1"
                        || (e.protocol == "6"
                            && e.from.unwrap_or(0) <= port
                            && port <= e.to.unwrap_or(65535))
                })
                .is_some_and(|e| e.allow)
        })
        .collect()
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
    /// Security Hub: the account is subscribed in the region.
    pub security_hub: Result<bool, Failure>,
    pub groups: Result<Vec<Group>, Failure>,
    pub nacls: Result<Vec<Nacl>, Failure>,
}

/// One access key of a credential-report row.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessKey {
    pub n: u8,
    pub active: bool,
    pub last_rotated: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
}

/// One row of the IAM credential report.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub user: String,
    pub created: Option<DateTime<Utc>>,
    pub password_enabled: bool,
    pub password_last_used: Option<DateTime<Utc>>,
    pub mfa: bool,
    pub keys: Vec<AccessKey>,
}

/// The credential report: the root row (when the report has one) and the users.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialReport {
    pub root: Option<Credential>,
    pub users: Vec<Credential>,
}

/// Parse the credential report's CSV (`GetCredentialReport`, decoded). Dates are RFC 3339;
/// `N/A`, `no_information` and `not_supported` are no date.
pub fn credential_report(csv: &str) -> Result<CredentialReport, String> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or("the credential report is empty")?
        .split(',')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("the credential report has no {name} column"))
    };
    let (user, created, pw, pw_used, mfa) = (
        col("user")?,
        col("user_creation_time")?,
        col("password_enabled")?,
        col("password_last_used")?,
        col("mfa_active")?,
    );
    let mut key_cols = Vec::new();
    for n in [1u8, 2] {
        key_cols.push((
            n,
            col(&format!("access_key_{n}_active"))?,
            col(&format!("access_key_{n}_last_rotated"))?,
            col(&format!("access_key_{n}_last_used_date"))?,
        ));
    }
    let date = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    };
    let mut report = CredentialReport {
        root: None,
        users: Vec::new(),
    };
    for (i, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < header.len() {
            return Err(format!(
                "credential report row {} has {} fields, the header {}",
                i + 2,
                f.len(),
                header.len()
            ));
        }
        let row = Credential {
            user: f[user].to_string(),
            created: date(f[created]),
            password_enabled: f[pw] == "true",
            password_last_used: date(f[pw_used]),
            mfa: f[mfa] == "true",
            keys: key_cols
                .iter()
                .map(|&(n, a, r, u)| AccessKey {
                    n,
                    active: f[a] == "true",
                    last_rotated: date(f[r]),
                    last_used: date(f[u]),
                })
                .collect(),
        };
        if row.user == "<root_account>" {
            report.root = Some(row);
        } else {
            report.users.push(row);
        }
    }
    Ok(report)
}

/// A user, group or role and the policies (inline and attached) it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// `user`, `group` or `role`.
    pub kind: &'static str,
    pub name: String,
    /// (policy name, its statements); an AWS-managed policy the sweep could not read is
    /// given by name (`AdministratorAccess` is known).
    pub policies: Vec<(String, Vec<Statement>)>,
    /// A role's trust policy.
    pub trust: Option<Value>,
}

/// A trust policy lets anyone assume the role: an Allow whose principal is `*` (or AWS
/// `*`) with no condition.
pub fn trust_is_open(doc: &Value) -> bool {
    let statements = match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        v @ Value::Object(_) => vec![v.clone()],
        _ => vec![],
    };
    let star = |v: &Value| match v {
        Value::String(s) => s == "*",
        Value::Array(a) => a.iter().any(|x| x == "*"),
        _ => false,
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && s.get("Condition")
                .is_none_or(|c| c.as_object().is_none_or(|o| o.is_empty()))
            && match &s["Principal"] {
                Value::String(p) => p == "*",
                Value::Object(o) => o.get("AWS").is_some_and(star),
                _ => false,
            }
    })
}

/// The account's password policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PasswordPolicy {
    pub min_length: i32,
    pub reuse_prevention: i32,
    pub uppercase: bool,
    pub lowercase: bool,
    pub numbers: bool,
    pub symbols: bool,
    pub max_age_days: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerCert {
    pub name: String,
    pub expires: DateTime<Utc>,
}

/// A bucket as the data checks need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub name: String,
    /// It holds at least one object (versioning and logging matter on buckets with data).
    pub holds_data: bool,
    pub versioning: bool,
    pub logging: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trail {
    pub name: String,
    pub validation: bool,
    pub kms: bool,
    pub bucket: Option<String>,
}

/// The account-wide reads (IAM, S3, CloudTrail), made once from the first region.
#[derive(Debug)]
pub struct AccountWide {
    pub credentials: Result<CredentialReport, Failure>,
    pub principals: Result<Vec<Principal>, Failure>,
    /// None: the account has no password policy.
    pub password_policy: Result<Option<PasswordPolicy>, Failure>,
    pub server_certs: Result<Vec<ServerCert>, Failure>,
    pub buckets: Result<Vec<Bucket>, Failure>,
    pub trails: Result<Vec<Trail>, Failure>,
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
    if let Ok(false) = s.security_hub {
        out.push(finding(
            "sechub.disabled",
            "Security Hub not enabled",
            Severity::Medium,
            format!("account ({r})"),
            format!("the account is not subscribed to Security Hub in {r}"),
            "Enable Security Hub with the AWS Foundational Security Best Practices standard",
        ));
    }
    for g in s.groups.iter().flatten() {
        if g.default && g.rules > 0 {
            out.push(finding(
                "ec2.default_sg_open",
                "Default security group allows traffic",
                Severity::Medium,
                format!("{} ({r})", g.id),
                format!(
                    "the VPC's default group has {} rule{}",
                    g.rules,
                    if g.rules == 1 { "" } else { "s" }
                ),
                "Remove every inbound and outbound rule of the default group; use named groups",
            ));
        }
        if !g.default && !g.in_use && !g.world_open.is_empty() {
            out.push(finding(
                "ec2.unused_open_sg",
                "Unused security group open to the world",
                Severity::Low,
                format!("{} ({r})", g.id),
                format!(
                    "{} is attached to nothing and allows 0.0.0.0/0 on {}",
                    g.name,
                    g.world_open.join(", ")
                ),
                "Delete the group, or narrow its ingress before anything uses it",
            ));
        }
    }
    for n in s.nacls.iter().flatten() {
        let ports = nacl_open_ports(n);
        if !ports.is_empty() {
            let ports: Vec<String> = ports.iter().map(i32::to_string).collect();
            out.push(finding(
                "ec2.nacl_open_admin",
                "Network ACL open to the world on admin ports",
                Severity::Medium,
                format!("{} ({r})", n.id),
                format!(
                    "0.0.0.0/0 reaches port {} first through an allow entry",
                    ports.join(" and ")
                ),
                "Add deny entries for 0.0.0.0/0 on 22 and 3389 ahead of the allow entries",
            ));
        }
    }
    out
}

/// The check ids the region sweep decides, family by family (the order of [`families`]).
pub const REGION_FAMILIES: &[&[&str]] = &[
    &["ebs.unencrypted_volume"],
    &["ebs.public_snapshot", "ebs.unencrypted_snapshot"],
    &[
        "rds.backups_off",
        "rds.deletion_protection_off",
        "rds.minor_upgrade_off",
    ],
    &["rds.public_snapshot"],
    &["kms.rotation_off"],
    &["logs.unencrypted_group"],
    &["guardduty.disabled"],
    &["lambda.env_secret"],
    &["ecs.env_secret"],
    &["secretsmanager.rotation_off"],
    &["sechub.disabled"],
    &["ec2.default_sg_open", "ec2.unused_open_sg"],
    &["ec2.nacl_open_admin"],
];

/// Each family's read error, in [`REGION_FAMILIES`] order.
pub fn families(s: &RegionSweep) -> Vec<(&'static [&'static str], Option<&Failure>)> {
    let errs = [
        s.volumes.as_ref().err(),
        s.snapshots.as_ref().err(),
        s.databases.as_ref().err(),
        s.db_snapshots.as_ref().err(),
        s.keys.as_ref().err(),
        s.log_groups.as_ref().err(),
        s.guardduty.as_ref().err(),
        s.functions.as_ref().err(),
        s.task_definitions.as_ref().err(),
        s.secrets.as_ref().err(),
        s.security_hub.as_ref().err(),
        s.groups.as_ref().err(),
        s.nacls.as_ref().err(),
    ];
    REGION_FAMILIES.iter().copied().zip(errs).collect()
}

/// The check ids the account-wide reads decide, family by family (the order of
/// [`wide_families`]).
pub const WIDE_FAMILIES: &[&[&str]] = &[
    &[
        "iam.key_not_rotated",
        "iam.credentials_unused",
        "iam.console_no_mfa",
        "iam.root_used",
    ],
    &["iam.principal_admin", "iam.role_trust_any"],
    &[
        "iam.password_length",
        "iam.password_reuse",
        "iam.password_complexity",
    ],
    &["iam.expired_server_cert"],
    &["s3.versioning_off", "s3.access_logging_off"],
    &[
        "cloudtrail.validation_off",
        "cloudtrail.unencrypted",
        "cloudtrail.bucket_logging_off",
    ],
];

/// Each account-wide family's read error, in [`WIDE_FAMILIES`] order.
pub fn wide_families(w: &AccountWide) -> Vec<(&'static [&'static str], Option<&Failure>)> {
    let errs = [
        w.credentials.as_ref().err(),
        w.principals.as_ref().err(),
        w.password_policy.as_ref().err(),
        w.server_certs.as_ref().err(),
        w.buckets.as_ref().err(),
        w.trails.as_ref().err(),
    ];
    WIDE_FAMILIES.iter().copied().zip(errs).collect()
}

/// Older than `days` at `now` (no date: never, so not older).
fn older(t: Option<DateTime<Utc>>, now: DateTime<Utc>, days: i64) -> bool {
    t.is_some_and(|t| now - t > Duration::days(days))
}

fn day(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.date_naive().to_string())
        .unwrap_or_else(|| "never".into())
}

/// The findings of the account-wide reads at `now`, and the checks they could not decide
/// although their family was read (one line each, with the reason).
pub fn wide_findings(
    w: &AccountWide,
    now: DateTime<Utc>,
) -> (Vec<Finding>, Vec<(&'static str, String)>) {
    let mut out = Vec::new();
    let mut undecided = Vec::new();
    if let Ok(report) = &w.credentials {
        for u in &report.users {
            let res = || format!("user {}", u.user);
            for k in u.keys.iter().filter(|k| k.active) {
                if older(k.last_rotated, now, 90) {
                    out.push(finding(
                        "iam.key_not_rotated",
                        "Access key not rotated in 90 days",
                        Severity::Medium,
                        res(),
                        format!("access key {} last rotated {}", k.n, day(k.last_rotated)),
                        "Create a new key, move its users to it, then deactivate and delete the old one",
                    ));
                }
                // Unused: last used over 45 days ago, or never used and issued over 45 days ago.
                let idle = match k.last_used {
                    Some(_) => older(k.last_used, now, 45),
                    None => older(k.last_rotated, now, 45),
                };
                if idle {
                    out.push(finding(
                        "iam.credentials_unused",
                        "Credentials unused for 45 days",
                        Severity::Medium,
                        res(),
                        format!(
                            "access key {} is active and was last used {}",
                            k.n,
                            day(k.last_used)
                        ),
                        "Deactivate the unused access key or password",
                    ));
                }
            }
            if u.password_enabled {
                let idle = match u.password_last_used {
                    Some(_) => older(u.password_last_used, now, 45),
                    None => older(u.created, now, 45),
                };
                if idle {
                    out.push(finding(
                        "iam.credentials_unused",
                        "Credentials unused for 45 days",
                        Severity::Medium,
                        res(),
                        format!(
                            "the console password was last used {}",
                            day(u.password_last_used)
                        ),
                        "Deactivate the unused access key or password",
                    ));
                }
                if !u.mfa {
                    out.push(finding(
                        "iam.console_no_mfa",
                        "Console user without MFA",
                        Severity::High,
                        res(),
                        "password enabled, no MFA device".into(),
                        "Assign an MFA device to the user, or remove the console password",
                    ));
                }
            }
        }
        match &report.root {
            Some(root) => {
                let recent =
                    |t: Option<DateTime<Utc>>| t.is_some_and(|t| now - t <= Duration::days(90));
                let used: Vec<String> = std::iter::once(("password", root.password_last_used))
                    .chain(root.keys.iter().map(|k| {
                        (
                            if k.n == 1 {
                                "access key 1"
                            } else {
                                "access key 2"
                            },
                            k.last_used,
                        )
                    }))
                    .filter(|(_, t)| recent(*t))
                    .map(|(what, t)| format!("{what} on {}", day(t)))
                    .collect();
                if !used.is_empty() {
                    out.push(finding(
                        "iam.root_used",
                        "Root user used in the last 90 days",
                        Severity::High,
                        "root user".into(),
                        format!("the root user's {}", used.join(", ")),
                        "Use IAM roles for daily work; keep the root user for the tasks only it can do",
                    ));
                }
            }
            None => undecided.push((
                "iam.root_used",
                "the credential report has no <root_account> row".to_string(),
            )),
        }
    }
    for p in w.principals.iter().flatten() {
        let admin: Vec<&str> = p
            .policies
            .iter()
            .filter(|(name, st)| {
                name == "AdministratorAccess"
                    || st.iter().any(|s| {
                        s.allow
                            && s.actions.iter().any(|a| a == "*")
                            && s.resources.iter().any(|r| r == "*")
                    })
            })
            .map(|(n, _)| n.as_str())
            .collect();
        if !admin.is_empty() {
            out.push(finding(
                "iam.principal_admin",
                "Principal with full administrative access",
                Severity::High,
                format!("{} {}", p.kind, p.name),
                format!("Action * on Resource * through {}", admin.join(", ")),
                "Replace the policy with the least privilege the principal needs",
            ));
        }
        if p.trust.as_ref().is_some_and(trust_is_open) {
            out.push(finding(
                "iam.role_trust_any",
                "Role assumable by any AWS account",
                Severity::Critical,
                format!("role {}", p.name),
                "the trust policy allows Principal * with no condition".into(),
                "Name the accounts or services that may assume the role, with an ExternalId condition for third parties",
            ));
        }
    }
    if let Ok(policy) = &w.password_policy {
        let res = || "account password policy".to_string();
        let (len, reuse) = policy
            .as_ref()
            .map(|p| (p.min_length, p.reuse_prevention))
            .unwrap_or((0, 0));
        let none = policy.is_none();
        if len < 14 {
            out.push(finding(
                "iam.password_length",
                "Password policy allows passwords under 14 characters",
                Severity::Medium,
                res(),
                if none {
                    "no password policy".into()
                } else {
                    format!("minimum length {len}")
                },
                "Require a minimum password length of 14",
            ));
        }
        if reuse < 24 {
            out.push(finding(
                "iam.password_reuse",
                "Password policy allows reuse",
                Severity::Medium,
                res(),
                if none {
                    "no password policy".into()
                } else {
                    format!("remembers {reuse} passwords")
                },
                "Prevent the reuse of the last 24 passwords",
            ));
        }
        let weak: Vec<&str> = match policy {
            None => vec!["no password policy"],
            Some(p) => [
                (!p.uppercase, "no uppercase required"),
                (!p.lowercase, "no lowercase required"),
                (!p.numbers, "no number required"),
                (!p.symbols, "no symbol required"),
                (
                    p.max_age_days.is_none_or(|d| d > 90),
                    "passwords do not expire within 90 days",
                ),
            ]
            .into_iter()
            .filter(|(bad, _)| *bad)
            .map(|(_, why)| why)
            .collect(),
        };
        if !weak.is_empty() {
            out.push(finding(
                "iam.password_complexity",
                "Password policy complexity incomplete",
                Severity::Low,
                res(),
                weak.join("; "),
                "Require uppercase, lowercase, numbers and symbols, and a maximum age of 90 days",
            ));
        }
    }
    for c in w.server_certs.iter().flatten().filter(|c| c.expires < now) {
        out.push(finding(
            "iam.expired_server_cert",
            "Expired server certificate stored in IAM",
            Severity::Medium,
            format!("server certificate {}", c.name),
            format!("expired {}", c.expires.date_naive()),
            "Delete the expired certificate",
        ));
    }
    let buckets = w.buckets.as_ref().ok();
    for b in buckets.into_iter().flatten().filter(|b| b.holds_data) {
        if !b.versioning {
            out.push(finding(
                "s3.versioning_off",
                "Bucket holding data without versioning",
                Severity::Low,
                b.name.clone(),
                "versioning is not Enabled".into(),
                "Enable versioning (and a lifecycle rule for noncurrent versions)",
            ));
        }
        if !b.logging {
            out.push(finding(
                "s3.access_logging_off",
                "Bucket holding data without access logging",
                Severity::Low,
                b.name.clone(),
                "server access logging is off".into(),
                "Enable server access logging to a log bucket",
            ));
        }
    }
    for t in w.trails.iter().flatten() {
        let res = || format!("trail {}", t.name);
        if !t.validation {
            out.push(finding(
                "cloudtrail.validation_off",
                "CloudTrail log file validation off",
                Severity::Medium,
                res(),
                "LogFileValidationEnabled is false".into(),
                "Enable log file validation on the trail",
            ));
        }
        if !t.kms {
            out.push(finding(
                "cloudtrail.unencrypted",
                "CloudTrail logs not encrypted with a KMS key",
                Severity::Medium,
                res(),
                "no KmsKeyId".into(),
                "Encrypt the trail's logs with a customer-managed KMS key",
            ));
        }
        match (&t.bucket, buckets) {
            (Some(name), Some(list)) => match list.iter().find(|b| &b.name == name) {
                Some(b) if !b.logging => out.push(finding(
                    "cloudtrail.bucket_logging_off",
                    "CloudTrail bucket without access logging",
                    Severity::Low,
                    res(),
                    format!("bucket {name} has no server access logging"),
                    "Enable server access logging on the trail's bucket",
                )),
                Some(_) => {}
                None => undecided.push((
                    "cloudtrail.bucket_logging_off",
                    format!("trail {}: bucket {name} is not in this account", t.name),
                )),
            },
            (Some(name), None) => undecided.push((
                "cloudtrail.bucket_logging_off",
                format!("trail {}: bucket {name} could not be read", t.name),
            )),
            (None, _) => {}
        }
    }
    (out, undecided)
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
            security_hub: Ok(true),
            groups: Ok(vec![Group {
                id: "sg-d".into(),
                name: "default".into(),
                default: true,
                rules: 0,
                world_open: vec![],
                in_use: true,
            }]),
            nacls: Ok(vec![]),
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

    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-20T08:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::1:user/alice,2026-01-01T00:00:00+00:00,true,2026-11-30T00:00:00+00:00,N/A,N/A,true,true,2026-11-01T00:00:00+00:00,2026-11-30T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
bob,arn:aws:iam::1:user/bob,2025-01-01T00:00:00+00:00,true,no_information,N/A,N/A,false,true,2025-01-01T00:00:00+00:00,N/A,N/A,N/A,true,2026-11-25T00:00:00+00:00,2026-11-29T00:00:00+00:00,N/A,N/A,false,N/A,false,N/A
";

    fn wide(report: Result<CredentialReport, Failure>) -> AccountWide {
        AccountWide {
            credentials: report,
            principals: Ok(vec![]),
            password_policy: Ok(Some(PasswordPolicy {
                min_length: 14,
                reuse_prevention: 24,
                uppercase: true,
                lowercase: true,
                numbers: true,
                symbols: true,
                max_age_days: Some(90),
            })),
            server_certs: Ok(vec![]),
            buckets: Ok(vec![]),
            trails: Ok(vec![]),
        }
    }

    #[test]
    fn the_credential_report_decides_key_age_idleness_mfa_and_root_use() {
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        let report = credential_report(REPORT).unwrap();
        assert!(report.root.is_some());
        assert_eq!(report.users.len(), 2);
        let (found, undecided) = wide_findings(&wide(Ok(report.clone())), now);
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.check.as_str(), f.resource.as_str()))
            .collect();
        // alice: a fresh key and MFA, nothing. bob: key 1 from 2025 never used (old and
        // idle), key 2 fresh, a password never used, no MFA. root: signed in 11 days ago.
        assert_eq!(
            got,
            [
                ("iam.key_not_rotated", "user bob"),
                ("iam.credentials_unused", "user bob"),
                ("iam.credentials_unused", "user bob"),
                ("iam.console_no_mfa", "user bob"),
                ("iam.root_used", "root user"),
            ]
        );
        assert!(undecided.is_empty());
        // Root last used 101 days before: not within 90.
        let later = "2027-03-01T00:00:00Z".parse().unwrap();
        let (found, _) = wide_findings(&wide(Ok(report.clone())), later);
        assert!(!found.iter().any(|f| f.check == "iam.root_used"));
        // A report without the root row (moto's) leaves root use undecided, never passed.
        let mut no_root = report;
        no_root.root = None;
        let (_, undecided) = wide_findings(&wide(Ok(no_root)), now);
        assert_eq!(undecided[0].0, "iam.root_used");
        assert!(credential_report("user,arn\nx,y\n").is_err());
        assert!(credential_report("").is_err());
    }

    #[test]
    fn a_nacl_is_open_only_when_the_first_world_entry_for_the_port_allows() {
        let e = |rule, allow, world, protocol: &str, from, to| NaclEntry {
            rule,
            allow,
            world,
            protocol: protocol.into(),
            from,
            to,
        };
        let acl = |ingress| Nacl {
            id: "acl".into(),
            ingress,
        };
        assert_eq!(
            nacl_open_ports(&acl(vec![e(100, true, true, "-1", None, None)])),
            [22, 3389]
        );
        // A deny for 22 ahead of the allow-all closes 22 only; a narrower deny decides nothing.
        assert_eq!(
            nacl_open_ports(&acl(vec![
                e(100, true, true, "-1", None, None),
                e(50, false, true, "6", Some(22), Some(22)),
                e(10, false, false, "-1", None, None),
            ])),
            [3389]
        );
        // UDP and other ports do not open the admin ports; the implicit deny closes the rest.
        assert!(
            nacl_open_ports(&acl(vec![
                e(100, true, true, "17", Some(0), Some(65535)),
                e(110, true, true, "6", Some(443), Some(443)),
            ]))
            .is_empty()
        );
    }

    #[test]
    fn a_trust_policy_is_open_on_a_bare_star_without_condition() {
        use serde_json::json;
        assert!(trust_is_open(
            &json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
        ));
        assert!(trust_is_open(
            &json!({"Statement": {"Effect": "Allow", "Principal": "*"}})
        ));
        assert!(trust_is_open(
            &json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}}]})
        ));
        assert!(!trust_is_open(
            &json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}]})
        ));
        assert!(!trust_is_open(
            &json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]})
        ));
        assert!(!trust_is_open(
            &json!({"Statement": [{"Effect": "Deny", "Principal": "*"}]})
        ));
    }

    #[test]
    fn the_password_policy_fails_field_by_field_and_no_policy_fails_all() {
        let now = chrono::Utc::now();
        let mut w = wide(Ok(CredentialReport {
            root: None,
            users: vec![],
        }));
        let ids = |w: &AccountWide| -> Vec<String> {
            wide_findings(w, now)
                .0
                .into_iter()
                .map(|f| f.check)
                .collect()
        };
        assert!(ids(&w).is_empty());
        if let Ok(Some(p)) = &mut w.password_policy {
            p.reuse_prevention = 5;
            p.symbols = false;
        }
        assert_eq!(ids(&w), ["iam.password_reuse", "iam.password_complexity"]);
        w.password_policy = Ok(None);
        assert_eq!(
            ids(&w),
            [
                "iam.password_length",
                "iam.password_reuse",
                "iam.password_complexity"
            ]
        );
    }
}
