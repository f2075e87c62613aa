//! The account sweep (`audit --scope account`): every resource of the swept families in a
//! region, the families read at once. Plain facts out; helm-core's `auditor::account`
//! decides. A secret-looking environment value is classified here and dropped: only its
//! name and why leave this module.

use crate::AwsErrorKind;
use crate::audit::parse_policy;
use crate::{AwsClients, AwsError};
use helm_core::auditor::account::{
    AccountWide, Bucket, CredentialReport, Database, Environ, Group, Key, LogGroup, Nacl,
    NaclEntry, PasswordPolicy, Principal, RegionSweep, Secret, SecretVar, ServerCert, Snapshot,
    Trail, Volume, credential_report, secret_shape,
};
use helm_core::ports::Failure;

type R<T> = Result<T, AwsError>;

fn secret_vars<'a>(vars: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<SecretVar> {
    let mut out: Vec<SecretVar> = vars
        .filter_map(|(n, v)| {
            secret_shape(n, v).map(|why| SecretVar {
                name: n.to_string(),
                why,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

impl AwsClients {
    async fn sweep_volumes(&self, region: &str) -> R<Vec<Volume>> {
        let mut out = Vec::new();
        let mut pages = self.ec2(region).describe_volumes().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| AwsError::from_sdk("ec2:DescribeVolumes", Some(region), e))?;
            for v in p.volumes() {
                out.push(Volume {
                    id: v.volume_id().unwrap_or_default().to_string(),
                    encrypted: v.encrypted().unwrap_or(false),
                    attached_to: v
                        .attachments()
                        .first()
                        .and_then(|a| a.instance_id())
                        .map(str::to_string),
                });
            }
        }
        Ok(out)
    }

    async fn sweep_snapshots(&self, region: &str) -> R<Vec<Snapshot>> {
        use aws_sdk_ec2::types::{PermissionGroup, SnapshotAttributeName};
        let ec2 = self.ec2(region);
        let mut out = Vec::new();
        let mut pages = ec2
            .describe_snapshots()
            .owner_ids("self")
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| AwsError::from_sdk("ec2:DescribeSnapshots", Some(region), e))?;
            for s in p.snapshots() {
                let id = s.snapshot_id().unwrap_or_default();
                let attr = ec2
                    .describe_snapshot_attribute()
                    .snapshot_id(id)
                    .attribute(SnapshotAttributeName::CreateVolumePermission)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("ec2:DescribeSnapshotAttribute", Some(id), e)
                    })?;
                out.push(Snapshot {
                    id: id.to_string(),
                    encrypted: s.encrypted().unwrap_or(false),
                    public: attr
                        .create_volume_permissions()
                        .iter()
                        .any(|p| p.group() == Some(&PermissionGroup::All)),
                });
            }
        }
        Ok(out)
    }

    async fn sweep_databases(&self, region: &str) -> R<Vec<Database>> {
        let mut out = Vec::new();
        let mut pages = self
            .rds(region)
            .describe_db_instances()
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p =
                p.map_err(|e| AwsError::from_sdk("rds:DescribeDBInstances", Some(region), e))?;
            for d in p.db_instances() {
                out.push(Database {
                    id: d.db_instance_identifier().unwrap_or_default().to_string(),
                    backup_retention_days: d.backup_retention_period().unwrap_or(0),
                    deletion_protection: d.deletion_protection().unwrap_or(false),
                    auto_minor_version_upgrade: d.auto_minor_version_upgrade().unwrap_or(false),
                });
            }
        }
        Ok(out)
    }

    async fn sweep_db_snapshots(&self, region: &str) -> R<Vec<Snapshot>> {
        let rds = self.rds(region);
        let mut out = Vec::new();
        let mut pages = rds.describe_db_snapshots().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p =
                p.map_err(|e| AwsError::from_sdk("rds:DescribeDBSnapshots", Some(region), e))?;
            for s in p.db_snapshots() {
                let id = s.db_snapshot_identifier().unwrap_or_default();
                let attrs = rds
                    .describe_db_snapshot_attributes()
                    .db_snapshot_identifier(id)
                    .send()
                    .await
                    .map_err(|e| {
                        AwsError::from_sdk("rds:DescribeDBSnapshotAttributes", Some(id), e)
                    })?;
                let public = attrs
                    .db_snapshot_attributes_result()
                    .map(|r| r.db_snapshot_attributes())
                    .unwrap_or_default()
                    .iter()
                    .any(|a| {
                        a.attribute_name() == Some("restore")
                            && a.attribute_values().iter().any(|v| v == "all")
                    });
                out.push(Snapshot {
                    id: id.to_string(),
                    encrypted: s.encrypted().unwrap_or(false),
                    public,
                });
            }
        }
        Ok(out)
    }

    async fn sweep_keys(&self, region: &str) -> R<Vec<Key>> {
        use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState};
        let kms = self.kms(region);
        let mut out = Vec::new();
        let mut pages = kms.list_keys().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| AwsError::from_sdk("kms:ListKeys", Some(region), e))?;
            for k in p.keys() {
                let id = k.key_id().unwrap_or_default();
                let d = kms
                    .describe_key()
                    .key_id(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("kms:DescribeKey", Some(id), e))?;
                let Some(m) = d.key_metadata() else { continue };
                // Rotation applies to customer-managed, enabled, symmetric keys only.
                if m.key_manager() != Some(&KeyManagerType::Customer)
                    || m.key_state() != Some(&KeyState::Enabled)
                    || m.key_spec()
                        .is_some_and(|s| *s != KeySpec::SymmetricDefault)
                {
                    continue;
                }
                let r = kms
                    .get_key_rotation_status()
                    .key_id(id)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("kms:GetKeyRotationStatus", Some(id), e))?;
                out.push(Key {
                    id: id.to_string(),
                    rotation: r.key_rotation_enabled(),
                });
            }
        }
        Ok(out)
    }

    async fn sweep_log_groups(&self, region: &str) -> R<Vec<LogGroup>> {
        let mut out = Vec::new();
        let mut pages = self
            .logs(region)
            .describe_log_groups()
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| AwsError::from_sdk("logs:DescribeLogGroups", Some(region), e))?;
            for g in p.log_groups() {
                out.push(LogGroup {
                    name: g.log_group_name().unwrap_or_default().to_string(),
                    kms: g.kms_key_id().is_some_and(|k| !k.is_empty()),
                });
            }
        }
        Ok(out)
    }

    async fn sweep_guardduty(&self, region: &str) -> R<bool> {
        use aws_sdk_guardduty::types::DetectorStatus;
        let gd = self.guardduty(region);
        let ids = gd
            .list_detectors()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("guardduty:ListDetectors", Some(region), e))?;
        for id in ids.detector_ids() {
            let d = gd
                .get_detector()
                .detector_id(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("guardduty:GetDetector", Some(id), e))?;
            if d.status() == Some(&DetectorStatus::Enabled) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn sweep_functions(&self, region: &str) -> R<Vec<Environ>> {
        let mut out = Vec::new();
        let mut pages = self.lambda(region).list_functions().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| AwsError::from_sdk("lambda:ListFunctions", Some(region), e))?;
            for f in p.functions() {
                let vars = f.environment().and_then(|e| e.variables());
                out.push(Environ {
                    id: f.function_name().unwrap_or_default().to_string(),
                    secrets: secret_vars(
                        vars.into_iter()
                            .flatten()
                            .map(|(k, v)| (k.as_str(), v.as_str())),
                    ),
                });
            }
        }
        Ok(out)
    }

    /// The latest active revision of every task definition family.
    async fn sweep_task_definitions(&self, region: &str) -> R<Vec<Environ>> {
        use aws_sdk_ecs::types::TaskDefinitionStatus;
        let ecs = self.ecs(region);
        let mut latest: std::collections::BTreeMap<String, (i64, String)> = Default::default();
        let mut pages = ecs
            .list_task_definitions()
            .status(TaskDefinitionStatus::Active)
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p =
                p.map_err(|e| AwsError::from_sdk("ecs:ListTaskDefinitions", Some(region), e))?;
            for arn in p.task_definition_arns() {
                let tail = arn.rsplit('/').next().unwrap_or(arn);
                let (family, rev) = tail.rsplit_once(':').unwrap_or((tail, "0"));
                let rev: i64 = rev.parse().unwrap_or(0);
                if latest.get(family).is_none_or(|(r, _)| *r < rev) {
                    latest.insert(family.to_string(), (rev, arn.clone()));
                }
            }
        }
        let mut out = Vec::new();
        for (family, (rev, arn)) in latest {
            let d = ecs
                .describe_task_definition()
                .task_definition(&arn)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ecs:DescribeTaskDefinition", Some(&arn), e))?;
            let containers = d
                .task_definition()
                .map(|t| t.container_definitions())
                .unwrap_or_default();
            out.push(Environ {
                id: format!("{family}:{rev}"),
                secrets: secret_vars(containers.iter().flat_map(|c| {
                    c.environment().iter().map(|kv| {
                        (
                            kv.name().unwrap_or_default(),
                            kv.value().unwrap_or_default(),
                        )
                    })
                })),
            });
        }
        Ok(out)
    }

    async fn sweep_secrets(&self, region: &str) -> R<Vec<Secret>> {
        let mut out = Vec::new();
        let mut pages = self
            .secretsmanager(region)
            .list_secrets()
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p =
                p.map_err(|e| AwsError::from_sdk("secretsmanager:ListSecrets", Some(region), e))?;
            for s in p.secret_list() {
                out.push(Secret {
                    name: s.name().unwrap_or_default().to_string(),
                    rotation: s.rotation_enabled().unwrap_or(false),
                });
            }
        }
        Ok(out)
    }
}

#[allow(clippy::result_large_err)] // the port's own error type
fn port<T>(r: R<T>) -> Result<T, Failure> {
    r.map_err(Into::into)
}

impl helm_core::ports::AccountFacts for AwsClients {
    async fn region_sweep(&self, region: &str) -> RegionSweep {
        let (volumes, snapshots, databases, db_snapshots, keys) = futures::join!(
            self.sweep_volumes(region),
            self.sweep_snapshots(region),
            self.sweep_databases(region),
            self.sweep_db_snapshots(region),
            self.sweep_keys(region),
        );
        let (log_groups, guardduty, functions, task_definitions, secrets) = futures::join!(
            self.sweep_log_groups(region),
            self.sweep_guardduty(region),
            self.sweep_functions(region),
            self.sweep_task_definitions(region),
            self.sweep_secrets(region),
        );
        let (security_hub, groups, nacls) = futures::join!(
            self.sweep_security_hub(region),
            self.sweep_groups(region),
            self.sweep_nacls(region),
        );
        RegionSweep {
            region: region.to_string(),
            volumes: port(volumes),
            snapshots: port(snapshots),
            databases: port(databases),
            db_snapshots: port(db_snapshots),
            keys: port(keys),
            log_groups: port(log_groups),
            guardduty: port(guardduty),
            functions: port(functions),
            task_definitions: port(task_definitions),
            secrets: port(secrets),
            security_hub: port(security_hub),
            groups: port(groups),
            nacls: port(nacls),
        }
    }

    async fn account_wide(&self, region: &str) -> AccountWide {
        let (credentials, principals, password_policy) = futures::join!(
            self.sweep_credentials(),
            self.sweep_principals(),
            self.password_policy(),
        );
        let (server_certs, buckets, trails) = futures::join!(
            self.sweep_server_certs(),
            self.sweep_buckets(region),
            self.sweep_trails(region),
        );
        AccountWide {
            credentials: port(credentials),
            principals: port(principals),
            password_policy: port(password_policy),
            server_certs: port(server_certs),
            buckets: port(buckets),
            trails: port(trails),
        }
    }
}

fn chrono_time(t: &aws_smithy_types::DateTime) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Whether a CIDR is the whole IPv4 or IPv6 internet.
fn is_world(cidr: Option<&str>) -> bool {
    matches!(cidr, Some("0.0.0.0/0") | Some("::/0"))
}

/// The IAM credential report, generated first: AWS answers `STARTED`/`INPROGRESS` while it
/// makes one, so it is asked again every `pause`, 15 times at most.
pub(crate) async fn credential_report_of(
    iam: &aws_sdk_iam::Client,
    pause: std::time::Duration,
) -> R<CredentialReport> {
    use aws_sdk_iam::types::ReportStateType;
    for attempt in 0.. {
        let g = iam
            .generate_credential_report()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam:GenerateCredentialReport", None, e))?;
        if g.state() == Some(&ReportStateType::Complete) {
            break;
        }
        if attempt == 14 {
            return Err(AwsError::local(
                "iam:GenerateCredentialReport",
                None,
                AwsErrorKind::Service,
                "the credential report was still being generated after 15 tries",
            ));
        }
        tokio::time::sleep(pause).await;
    }
    let r = iam
        .get_credential_report()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam:GetCredentialReport", None, e))?;
    let csv = r
        .content()
        .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
        .unwrap_or_default();
    credential_report(&csv)
        .map_err(|why| AwsError::local("iam:GetCredentialReport", None, AwsErrorKind::Service, why))
}

/// How many buckets are read at once (each takes four calls).
const BUCKET_READS_AT_ONCE: usize = 8;

impl AwsClients {
    /// Security Hub: Ok(false) where the account is not subscribed in the region.
    async fn sweep_security_hub(&self, region: &str) -> R<bool> {
        match self.securityhub(region).describe_hub().send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = AwsError::from_sdk("securityhub:DescribeHub", Some(region), e);
                // AWS answers InvalidAccessException for an account that is not subscribed.
                if err.code.as_deref() == Some("InvalidAccessException")
                    || err.kind == AwsErrorKind::NotFound
                {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// Every security group, with whether a network interface uses it.
    async fn sweep_groups(&self, region: &str) -> R<Vec<Group>> {
        let ec2 = self.ec2(region);
        let mut used = std::collections::HashSet::new();
        let mut pages = ec2.describe_network_interfaces().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| {
                AwsError::from_sdk("ec2:DescribeNetworkInterfaces", Some(region), e)
            })?;
            for ni in p.network_interfaces() {
                for g in ni.groups() {
                    if let Some(id) = g.group_id() {
                        used.insert(id.to_string());
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut pages = ec2.describe_security_groups().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p =
                p.map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", Some(region), e))?;
            for g in p.security_groups() {
                let id = g.group_id().unwrap_or_default().to_string();
                let mut world_open = Vec::new();
                for perm in g.ip_permissions() {
                    let world = perm.ip_ranges().iter().any(|r| is_world(r.cidr_ip()))
                        || perm.ipv6_ranges().iter().any(|r| is_world(r.cidr_ipv6()));
                    if !world {
                        continue;
                    }
                    let what = match (perm.ip_protocol(), perm.from_port(), perm.to_port()) {
                        (Some("-1") | None, _, _) => "all".to_string(),
                        (Some(p), Some(a), Some(b)) if a == b => format!("{p} {a}"),
                        (Some(p), Some(a), Some(b)) => format!("{p} {a}-{b}"),
                        (Some(p), _, _) => p.to_string(),
                    };
                    if !world_open.contains(&what) {
                        world_open.push(what);
                    }
                }
                out.push(Group {
                    in_use: used.contains(&id),
                    id,
                    name: g.group_name().unwrap_or_default().to_string(),
                    default: g.group_name() == Some("default"),
                    rules: g.ip_permissions().len() + g.ip_permissions_egress().len(),
                    world_open,
                });
            }
        }
        Ok(out)
    }

    async fn sweep_nacls(&self, region: &str) -> R<Vec<Nacl>> {
        use aws_sdk_ec2::types::RuleAction;
        let mut out = Vec::new();
        let mut pages = self
            .ec2(region)
            .describe_network_acls()
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p =
                p.map_err(|e| AwsError::from_sdk("ec2:DescribeNetworkAcls", Some(region), e))?;
            for acl in p.network_acls() {
                out.push(Nacl {
                    id: acl.network_acl_id().unwrap_or_default().to_string(),
                    ingress: acl
                        .entries()
                        .iter()
                        .filter(|e| e.egress() == Some(false))
                        .map(|e| NaclEntry {
                            rule: e.rule_number().unwrap_or(32767),
                            allow: e.rule_action() == Some(&RuleAction::Allow),
                            world: is_world(e.cidr_block()) || is_world(e.ipv6_cidr_block()),
                            protocol: e.protocol().unwrap_or("-1").to_string(),
                            from: e.port_range().and_then(|r| r.from()),
                            to: e.port_range().and_then(|r| r.to()),
                        })
                        .collect(),
                });
            }
        }
        Ok(out)
    }

    async fn sweep_credentials(&self) -> R<CredentialReport> {
        credential_report_of(&self.iam(), std::time::Duration::from_secs(2)).await
    }

    /// Every user, group and role with its inline and attached policies (one paginated
    /// call: GetAccountAuthorizationDetails). Customer-managed policies are read from the
    /// same answer; an AWS-managed one is named only.
    async fn sweep_principals(&self) -> R<Vec<Principal>> {
        use aws_sdk_iam::types::{AttachedPolicy, EntityType, PolicyDetail};
        let mut details = self
            .iam()
            .get_account_authorization_details()
            .filter(EntityType::User)
            .filter(EntityType::Group)
            .filter(EntityType::Role)
            .filter(EntityType::LocalManagedPolicy)
            .into_paginator()
            .send();
        let mut users = Vec::new();
        let mut groups = Vec::new();
        let mut roles = Vec::new();
        let mut managed: std::collections::HashMap<
            String,
            Vec<helm_core::auditor::security::Statement>,
        > = Default::default();
        while let Some(p) = details.next().await {
            let p =
                p.map_err(|e| AwsError::from_sdk("iam:GetAccountAuthorizationDetails", None, e))?;
            users.extend(p.user_detail_list().iter().cloned());
            groups.extend(p.group_detail_list().iter().cloned());
            roles.extend(p.role_detail_list().iter().cloned());
            for m in p.policies() {
                let doc = m
                    .policy_version_list()
                    .iter()
                    .find(|v| v.is_default_version())
                    .and_then(|v| v.document());
                managed.insert(
                    m.arn().unwrap_or_default().to_string(),
                    doc.map(parse_policy).unwrap_or_default(),
                );
            }
        }
        let policies = |inline: &[PolicyDetail], attached: &[AttachedPolicy]| {
            let mut out: Vec<(String, Vec<helm_core::auditor::security::Statement>)> = inline
                .iter()
                .map(|p| {
                    (
                        p.policy_name().unwrap_or_default().to_string(),
                        p.policy_document().map(parse_policy).unwrap_or_default(),
                    )
                })
                .collect();
            for a in attached {
                let arn = a.policy_arn().unwrap_or_default();
                out.push((
                    a.policy_name().unwrap_or_default().to_string(),
                    managed.get(arn).cloned().unwrap_or_default(),
                ));
            }
            out
        };
        let mut out = Vec::new();
        for u in &users {
            out.push(Principal {
                kind: "user",
                name: u.user_name().unwrap_or_default().to_string(),
                policies: policies(u.user_policy_list(), u.attached_managed_policies()),
                trust: None,
            });
        }
        for g in &groups {
            out.push(Principal {
                kind: "group",
                name: g.group_name().unwrap_or_default().to_string(),
                policies: policies(g.group_policy_list(), g.attached_managed_policies()),
                trust: None,
            });
        }
        for r in &roles {
            out.push(Principal {
                kind: "role",
                name: r.role_name().unwrap_or_default().to_string(),
                policies: policies(r.role_policy_list(), r.attached_managed_policies()),
                trust: r
                    .assume_role_policy_document()
                    .and_then(|d| serde_json::from_str(&crate::audit::percent_decode(d)).ok()),
            });
        }
        Ok(out)
    }

    /// The account's password policy (Ok(None): there is none).
    pub(crate) async fn password_policy(&self) -> R<Option<PasswordPolicy>> {
        match self.iam().get_account_password_policy().send().await {
            Ok(out) => Ok(out.password_policy().map(|p| PasswordPolicy {
                min_length: p.minimum_password_length().unwrap_or(0),
                reuse_prevention: p.password_reuse_prevention().unwrap_or(0),
                uppercase: p.require_uppercase_characters(),
                lowercase: p.require_lowercase_characters(),
                numbers: p.require_numbers(),
                symbols: p.require_symbols(),
                max_age_days: p.max_password_age().filter(|d| *d > 0),
            })),
            Err(e) => {
                let err = AwsError::from_sdk("iam:GetAccountPasswordPolicy", None, e);
                if err.kind == AwsErrorKind::NotFound || err.code.as_deref() == Some("NoSuchEntity")
                {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    async fn sweep_server_certs(&self) -> R<Vec<ServerCert>> {
        let mut out = Vec::new();
        let mut pages = self
            .iam()
            .list_server_certificates()
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| AwsError::from_sdk("iam:ListServerCertificates", None, e))?;
            for c in p.server_certificate_metadata_list() {
                if let Some(expires) = c.expiration().and_then(chrono_time) {
                    out.push(ServerCert {
                        name: c.server_certificate_name().to_string(),
                        expires,
                    });
                }
            }
        }
        Ok(out)
    }

    /// One bucket: read through its own region (AWS redirects a request sent elsewhere).
    async fn sweep_bucket(&self, home: &str, name: String) -> R<Bucket> {
        use aws_sdk_s3::types::BucketVersioningStatus;
        let loc = self
            .s3(home)
            .get_bucket_location()
            .bucket(&name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3:GetBucketLocation", Some(&name), e))?;
        let region = match loc.location_constraint().map(|c| c.as_str()) {
            None | Some("") => "us-east-1",
            Some("EU") => "eu-west-1",
            Some(r) => r,
        };
        let s3 = self.s3(region);
        let (list, versioning, logging) = futures::join!(
            s3.list_objects_v2().bucket(&name).max_keys(1).send(),
            s3.get_bucket_versioning().bucket(&name).send(),
            s3.get_bucket_logging().bucket(&name).send(),
        );
        let list = list.map_err(|e| AwsError::from_sdk("s3:ListBucket", Some(&name), e))?;
        let versioning =
            versioning.map_err(|e| AwsError::from_sdk("s3:GetBucketVersioning", Some(&name), e))?;
        let logging =
            logging.map_err(|e| AwsError::from_sdk("s3:GetBucketLogging", Some(&name), e))?;
        Ok(Bucket {
            holds_data: list.key_count().unwrap_or(0) > 0 || !list.contents().is_empty(),
            versioning: versioning.status() == Some(&BucketVersioningStatus::Enabled),
            logging: logging.logging_enabled().is_some(),
            name,
        })
    }

    async fn sweep_buckets(&self, home: &str) -> R<Vec<Bucket>> {
        use futures::StreamExt;
        let mut names = Vec::new();
        let mut pages = self.s3(home).list_buckets().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| AwsError::from_sdk("s3:ListAllMyBuckets", Some(home), e))?;
            names.extend(
                p.buckets()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_string)),
            );
        }
        futures::stream::iter(names)
            .map(|n| self.sweep_bucket(home, n))
            .buffered(BUCKET_READS_AT_ONCE)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// The trails `home` sees: its own and every multi-region trail.
    async fn sweep_trails(&self, home: &str) -> R<Vec<Trail>> {
        let out = self
            .cloudtrail(home)
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("cloudtrail:DescribeTrails", Some(home), e))?;
        let mut seen = std::collections::HashSet::new();
        Ok(out
            .trail_list()
            .iter()
            .filter(|t| seen.insert(t.trail_arn().or(t.name()).unwrap_or_default().to_string()))
            .map(|t| Trail {
                name: t.name().unwrap_or_default().to_string(),
                validation: t.log_file_validation_enabled().unwrap_or(false),
                kms: t.kms_key_id().is_some_and(|k| !k.is_empty()),
                bucket: t.s3_bucket_name().map(str::to_string),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::operation::generate_credential_report::GenerateCredentialReportOutput;
    use aws_sdk_iam::operation::get_credential_report::GetCredentialReportOutput;
    use aws_sdk_iam::types::ReportStateType;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::Blob;

    /// SDK-level stub: the emulator's credential report has no `<root_account>` row and is
    /// always complete at once; AWS's has the row and is generated over a few seconds. This
    /// drives the adapter through "in progress" twice, then reads a report with the root
    /// row, which the core's rule then judges.
    #[tokio::test]
    async fn the_credential_report_is_waited_for_and_its_root_row_read() {
        let state = |st: ReportStateType| {
            move || {
                GenerateCredentialReportOutput::builder()
                    .state(st.clone())
                    .build()
            }
        };
        let generate = mock!(aws_sdk_iam::Client::generate_credential_report)
            .sequence()
            .output(state(ReportStateType::Inprogress))
            .times(2)
            .output(state(ReportStateType::Complete))
            .build();
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-30T08:00:00+00:00,not_supported,not_supported,false,true,2020-01-02T00:00:00+00:00,2026-11-29T00:00:00+00:00,us-east-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n";
        let get = mock!(aws_sdk_iam::Client::get_credential_report).then_output(move || {
            GetCredentialReportOutput::builder()
                .content(Blob::new(csv))
                .build()
        });
        let client = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&generate, &get]);
        let report = credential_report_of(&client, std::time::Duration::from_millis(1))
            .await
            .unwrap();
        assert_eq!(generate.num_calls(), 3, "asked until complete");
        let root = report.root.clone().expect("the root row");
        assert!(root.keys[0].active, "the root user has an active key");
        let wide = AccountWide {
            credentials: Ok(report),
            principals: Ok(vec![]),
            password_policy: Ok(None),
            server_certs: Ok(vec![]),
            buckets: Ok(vec![]),
            trails: Ok(vec![]),
        };
        let now = "2026-12-03T00:00:00Z".parse().unwrap();
        let (found, undecided) = helm_core::auditor::account::wide_findings(&wide, now);
        let root_used: Vec<_> = found
            .iter()
            .filter(|f| f.check == "iam.root_used")
            .collect();
        assert_eq!(root_used.len(), 1);
        assert!(
            root_used[0].detail.contains("password on 2026-11-30"),
            "{}",
            root_used[0].detail
        );
        assert!(root_used[0].detail.contains("access key 1 on 2026-11-29"));
        assert!(undecided.is_empty());
    }

    /// A report still generating after every try is an error, never an empty pass.
    #[tokio::test]
    async fn a_report_never_ready_is_a_failure() {
        let generate = mock!(aws_sdk_iam::Client::generate_credential_report)
            .sequence()
            .output(|| {
                GenerateCredentialReportOutput::builder()
                    .state(ReportStateType::Started)
                    .build()
            })
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&generate]);
        let err = credential_report_of(&client, std::time::Duration::from_millis(1))
            .await
            .unwrap_err();
        assert_eq!(err.api, "iam:GenerateCredentialReport");
        assert!(err.message.contains("15 tries"));
        assert_eq!(generate.num_calls(), 15);
    }
}
