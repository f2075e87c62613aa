//! The account sweep (`audit --scope account`): every resource of the swept families in a
//! region, the families read at once. Plain facts out; helm-core's `auditor::account`
//! decides. A secret-looking environment value is classified here and dropped: only its
//! name and why leave this module.

use crate::{AwsClients, AwsError};
use helm_core::auditor::account::{
    Database, Environ, Key, LogGroup, RegionSweep, Secret, SecretVar, Snapshot, Volume,
    secret_shape,
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
        }
    }
}
