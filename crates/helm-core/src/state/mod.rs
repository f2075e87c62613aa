//! Shared state for a team: an object store with compare-and-swap writes (the port), a
//! read-modify-write that re-reads and re-applies on a conflict, the lease that keeps one
//! `watch` active among replicas, and what `state migrate` copies.
//!
//! The engine is the store's own: on S3, creates carry `If-None-Match: *`, updates
//! `If-Match: <etag>` and releases a conditional delete; a 412 (or 409) is a
//! [`Written::Conflict`]. The local backend gives the same semantics on one machine with a
//! file lock and content hashes as etags, so the use cases are the same on both.

pub mod lease;
pub mod local;
pub mod migrate;
pub mod session;

use crate::ports::Failure;
use std::future::Future;
use std::time::Duration;

/// An object and the version it was read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub bytes: Vec<u8>,
    pub etag: String,
}

/// The precondition of a write or a delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// Only if no object has the key (`If-None-Match: *`).
    Absent,
    /// Only if the object is still at this version (`If-Match: <etag>`).
    Matches(String),
}

/// What a conditional write or delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Done; the object's new etag (empty after a delete).
    Done(String),
    /// The precondition failed: another writer got there first.
    Conflict,
}

/// Where shared state lives, as the use cases need it. Keys are relative paths
/// (`watch/state.json`); the store adds its own prefix.
pub trait ObjectStore {
    /// Where this store is, for messages (`s3://bucket/prefix/`, a folder).
    fn location(&self) -> String;
    /// The object at `key`, or None.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Versioned>, Failure>>;
    /// Writes `bytes` at `key` if `cond` holds.
    fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        cond: Cond,
    ) -> impl Future<Output = Result<Written, Failure>>;
    /// Deletes `key` if it is at the version `etag`.
    fn delete(&self, key: &str, etag: &str) -> impl Future<Output = Result<Written, Failure>>;
    /// Every key under `prefix`, sorted.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, Failure>>;
    /// Every key under `prefix` with its current etag, sorted by key (one listing: S3's
    /// ListObjectsV2 carries each object's ETag, so no object is read).
    fn list_versions(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, Failure>>;
}

/// Whether two etags name the same version (S3 quotes them; a caller may not).
pub fn same_etag(a: &str, b: &str) -> bool {
    a.trim_matches('"') == b.trim_matches('"')
}

/// Why a read-modify-write did not land.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateError {
    /// The store failed (unreachable, denied...).
    Store(Failure),
    /// The change itself refused the current value (it could not be parsed, say).
    Refused(String),
    /// Other writers won every round.
    Contended { key: String, attempts: u32 },
}

impl std::fmt::Display for UpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateError::Store(e) => write!(f, "{e}"),
            UpdateError::Refused(why) => f.write_str(why),
            UpdateError::Contended { key, attempts } => write!(
                f,
                "{key}: another writer changed it first {attempts} times in a row; nothing was written"
            ),
        }
    }
}

impl std::error::Error for UpdateError {}

/// A landed read-modify-write: the new etag and how many rounds it took (1 when no other
/// writer came between the read and the write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    pub etag: String,
    pub attempts: u32,
}

/// Rounds of [`update`] before it gives up.
pub const UPDATE_ATTEMPTS: u32 = 64;

/// Reads `key`, applies `change` to what is there (None: nothing yet) and writes the result
/// on the condition that nobody wrote in between (`If-None-Match: *` for a create,
/// `If-Match` for an update). On a conflict it reads again and re-applies `change` to the
/// newer value, so no concurrent writer's update is lost: `change` must be a function of
/// the current value, not a value computed before. Between rounds it waits a little, with
/// jitter, so writers that collided do not collide again in step.
pub async fn update<S, F>(store: &S, key: &str, mut change: F) -> Result<Updated, UpdateError>
where
    S: ObjectStore + ?Sized,
    F: FnMut(Option<&[u8]>) -> Result<Vec<u8>, String>,
{
    for attempt in 1..=UPDATE_ATTEMPTS {
        let current = store.get(key).await.map_err(UpdateError::Store)?;
        let (next, cond) = match &current {
            Some(v) => (change(Some(&v.bytes)), Cond::Matches(v.etag.clone())),
            None => (change(None), Cond::Absent),
        };
        let next = next.map_err(UpdateError::Refused)?;
        match store
            .put(key, next, cond)
            .await
            .map_err(UpdateError::Store)?
        {
            Written::Done(etag) => {
                return Ok(Updated {
                    etag,
                    attempts: attempt,
                });
            }
            Written::Conflict => tokio::time::sleep(backoff(attempt)).await,
        }
    }
    Err(UpdateError::Contended {
        key: key.to_string(),
        attempts: UPDATE_ATTEMPTS,
    })
}

/// The wait after the `attempt`-th conflict: 5 ms doubling to at most 200 ms, with full
/// jitter (a random point in [0, cap]).
fn backoff(attempt: u32) -> Duration {
    let cap = (5u64 << attempt.min(6)).min(200);
    Duration::from_millis(jitter(cap))
}

pub(crate) fn jitter(cap: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish() % (cap + 1)
}

/// A key must be a relative path of plain segments: no `..`, no absolute path, no
/// backslash, nothing empty.
pub fn check_key(key: &str) -> Result<(), String> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key.contains('\\')
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad {
        Err(format!(
            "{key:?} is not a state key (a relative path of plain names)"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::local::LocalStore;
    use super::*;

    fn counter(prev: Option<&[u8]>) -> Result<Vec<u8>, String> {
        let n: u64 = match prev {
            None => 0,
            Some(b) => std::str::from_utf8(b)
                .map_err(|e| e.to_string())?
                .trim()
                .parse()
                .map_err(|e| format!("not a count: {e}"))?,
        };
        Ok(format!("{}\n", n + 1).into_bytes())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_updates_on_the_local_store_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(LocalStore::new(dir.path()));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let s = std::sync::Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    update(&*s, "n.txt", counter).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let v = store.get("n.txt").await.unwrap().unwrap();
        assert_eq!(String::from_utf8(v.bytes).unwrap(), "160\n");
    }

    #[tokio::test]
    async fn a_stale_etag_is_a_conflict_and_update_reapplies_the_change_to_the_newer_value() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let Written::Done(first) = store
            .put("n.txt", b"1\n".to_vec(), Cond::Absent)
            .await
            .unwrap()
        else {
            panic!("a create on an empty store lands")
        };
        assert_eq!(
            store
                .put("n.txt", b"9\n".to_vec(), Cond::Absent)
                .await
                .unwrap(),
            Written::Conflict,
            "a second create is refused"
        );
        // Another writer moves it on; our etag is now stale.
        let Written::Done(_) = store
            .put("n.txt", b"5\n".to_vec(), Cond::Matches(first.clone()))
            .await
            .unwrap()
        else {
            panic!("the first update lands")
        };
        assert_eq!(
            store
                .put("n.txt", b"2\n".to_vec(), Cond::Matches(first.clone()))
                .await
                .unwrap(),
            Written::Conflict
        );
        assert_eq!(
            store.delete("n.txt", &first).await.unwrap(),
            Written::Conflict
        );
        // update applies the change to what is there now (5), not to what we read (1).
        let mut calls = 0;
        let done = update(&store, "n.txt", |prev| {
            calls += 1;
            counter(prev)
        })
        .await
        .unwrap();
        assert_eq!(done.attempts, 1);
        assert_eq!(store.get("n.txt").await.unwrap().unwrap().bytes, b"6\n");
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_change_that_refuses_the_current_value_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        store
            .put("n.txt", b"oops\n".to_vec(), Cond::Absent)
            .await
            .unwrap();
        let err = update(&store, "n.txt", counter).await.unwrap_err();
        assert!(
            matches!(err, UpdateError::Refused(ref w) if w.contains("not a count")),
            "{err}"
        );
        assert_eq!(store.get("n.txt").await.unwrap().unwrap().bytes, b"oops\n");
    }

    #[test]
    fn keys_are_plain_relative_paths() {
        for good in ["watch/state.json", "a", "helm/issues/active/X-001.json"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a\\b",
            "./a",
            "a/",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_stays_under_its_cap() {
        for attempt in 1..100 {
            assert!(backoff(attempt) <= Duration::from_millis(200));
        }
    }
}
