//! `state migrate`: copy a project's state from one store to another (a local project up
//! to S3, and back), idempotently. What is state: the registry, the issues and their
//! sequence, reports, watch state, the notification outbox and ledger, the remediation
//! history, investigations and audits: every file under `.fractary/` but configuration
//! and secrets (`shared/`, the plugin's `config/` and `monitoring.toml`), faber-cloud's
//! own files, locks, temporary files and files set aside as corrupt.

use super::{Cond, ObjectStore, Written};
use crate::ports::Failure;
use serde::Serialize;

/// The folders (relative to `.fractary/`) whose files are state.
pub const STATE_ROOTS: &[&str] = &["registry/", "helm/", "plugins/helm-cloud/"];

/// Whether `key` (relative to `.fractary/`) is state to copy.
pub fn is_state(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    STATE_ROOTS.iter().any(|r| key.starts_with(r))
        && !key.starts_with("plugins/helm-cloud/config/")
        && key != "plugins/helm-cloud/monitoring.toml"
        && !name.starts_with('.')
        && !name.ends_with(".lock")
        && !name.ends_with(".tmp")
        && !name.contains(".corrupt-")
        && super::check_key(key).is_ok()
}

/// What a copy did, key by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    pub from: String,
    pub to: String,
    pub dry_run: bool,
    /// Written where there was nothing.
    pub created: Vec<String>,
    /// Written over a different version.
    pub updated: Vec<String>,
    /// Already the same bytes there.
    pub unchanged: Vec<String>,
    /// Changed at the destination between our read and our write: left as the other
    /// writer made it (run again to copy over it).
    pub conflicted: Vec<String>,
    /// Not copied: the destination had them when this working copy last shared state
    /// with it, and no longer has them (a team-mate removed them; copying would bring
    /// them back).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed_there: Vec<String>,
}

impl CopyReport {
    pub fn written(&self) -> usize {
        self.created.len() + self.updated.len()
    }
}

/// Copies every state key of `from` to `to`: a key absent there is created
/// (`If-None-Match: *`), a different one replaced on the version read (`If-Match`), the
/// same bytes left alone, so a second run writes nothing. A key of `shared_before` (what
/// `to` held when this copy last shared state with it: the session's base) that `to` no
/// longer has is left out: another writer removed it.
pub async fn copy<A, B>(
    from: &A,
    to: &B,
    dry_run: bool,
    shared_before: &std::collections::BTreeSet<String>,
) -> Result<CopyReport, Failure>
where
    A: ObjectStore + ?Sized,
    B: ObjectStore + ?Sized,
{
    let mut report = CopyReport {
        from: from.location(),
        to: to.location(),
        dry_run,
        ..Default::default()
    };
    for key in from.list("").await?.into_iter().filter(|k| is_state(k)) {
        let Some(src) = from.get(&key).await? else {
            continue; // removed since the listing
        };
        let dst = to.get(&key).await?;
        let cond = match &dst {
            Some(d) if d.bytes == src.bytes => {
                report.unchanged.push(key);
                continue;
            }
            Some(d) => Cond::Matches(d.etag.clone()),
            None if shared_before.contains(&key) => {
                report.removed_there.push(key);
                continue;
            }
            None => Cond::Absent,
        };
        let bucket = if cond == Cond::Absent {
            &mut report.created
        } else {
            &mut report.updated
        };
        if dry_run {
            bucket.push(key);
            continue;
        }
        match to.put(&key, src.bytes, cond).await? {
            Written::Done(_) => bucket.push(key),
            Written::Conflict => report.conflicted.push(key),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::local::LocalStore;
    use super::*;

    #[test]
    fn state_is_what_helm_writes_and_never_configuration_or_secrets() {
        for yes in [
            "registry/deployments.json",
            "helm/issues/active/CORE-001.json",
            "helm/issues/sequence.json",
            "plugins/helm-cloud/watch/state.json",
            "plugins/helm-cloud/monitoring/test/2026-12-03T08-00-00Z.json",
        ] {
            assert!(is_state(yes), "{yes}");
        }
        for no in [
            "shared/aws-credentials.json",
            "shared/environments.json",
            "plugins/helm-cloud/config/monitoring.toml",
            "plugins/helm-cloud/config/audit-suppressions.toml",
            "plugins/helm-cloud/monitoring.toml",
            "plugins/faber-cloud/deployments/test/registry.json",
            "registry/deployments.json.lock",
            "helm/issues/.sequence.json.1.2.tmp",
            "plugins/helm-cloud/watch/state.json.corrupt-2026",
        ] {
            assert!(!is_state(no), "{no}");
        }
    }

    #[tokio::test]
    async fn a_copy_creates_then_updates_then_writes_nothing_and_back_restores_the_same_files() {
        let a_dir = tempfile::tempdir().unwrap();
        let b_dir = tempfile::tempdir().unwrap();
        let (a, b) = (LocalStore::new(a_dir.path()), LocalStore::new(b_dir.path()));
        for (k, v) in [
            ("registry/deployments.json", "{}\n"),
            ("helm/issues/sequence.json", "{\"CORE\": 2}\n"),
            ("shared/aws-credentials.json", "secret"),
        ] {
            a.put(k, v.as_bytes().to_vec(), Cond::Absent).await.unwrap();
        }
        b.put(
            "helm/issues/sequence.json",
            b"{\"CORE\": 1}\n".to_vec(),
            Cond::Absent,
        )
        .await
        .unwrap();
        let none = Default::default();
        let dry = copy(&a, &b, true, &none).await.unwrap();
        assert_eq!(dry.written(), 2);
        assert!(
            b.get("registry/deployments.json").await.unwrap().is_none(),
            "a dry run writes nothing"
        );
        let first = copy(&a, &b, false, &none).await.unwrap();
        assert_eq!(first.created, ["registry/deployments.json"]);
        assert_eq!(first.updated, ["helm/issues/sequence.json"]);
        assert!(
            b.get("shared/aws-credentials.json")
                .await
                .unwrap()
                .is_none(),
            "secrets stay"
        );
        let again = copy(&a, &b, false, &none).await.unwrap();
        assert_eq!((again.written(), again.unchanged.len()), (0, 2));
        let back_dir = tempfile::tempdir().unwrap();
        let back = LocalStore::new(back_dir.path());
        copy(&b, &back, false, &none).await.unwrap();
        for k in ["registry/deployments.json", "helm/issues/sequence.json"] {
            assert_eq!(
                back.get(k).await.unwrap().unwrap().bytes,
                a.get(k).await.unwrap().unwrap().bytes
            );
        }
    }

    #[tokio::test]
    async fn what_a_team_mate_removed_since_this_copy_last_shared_is_not_brought_back() {
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (here, there) = (LocalStore::new(a_dir.path()), LocalStore::new(b_dir.path()));
        for k in [
            "helm/issues/active/X-001.json",
            "helm/issues/active/X-002.json",
        ] {
            here.put(k, b"{}\n".to_vec(), Cond::Absent).await.unwrap();
        }
        // X-001 was shared, then removed there; X-002 never was.
        let before = ["helm/issues/active/X-001.json".to_string()].into();
        let done = copy(&here, &there, false, &before).await.unwrap();
        assert_eq!(done.removed_there, ["helm/issues/active/X-001.json"]);
        assert_eq!(done.created, ["helm/issues/active/X-002.json"]);
        assert!(
            there
                .get("helm/issues/active/X-001.json")
                .await
                .unwrap()
                .is_none()
        );
    }
}
