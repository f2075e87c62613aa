//! A command's session with shared state (`[state] backend = "s3"`): the registry, the
//! issues and their sequence, reports, the outbox and ledger, the remediation history,
//! investigations and audits live in the store; `.fractary/` holds a working copy of them.
//!
//! A session is Terraform's S3 backend done without its two gaps:
//! 1. **Lock**: the state lock (`locks/state.json`) is a lease ([`super::lease`]): created
//!    with `If-None-Match: *`, renewed with `If-Match` while the command runs, released with
//!    a conditional delete, and carrying its own expiry, so a crashed holder's lock ends on
//!    its own and a holder that lost it cannot delete its successor's. Writers queue for it
//!    (jittered polling) up to a bound, then give up naming the holder.
//! 2. **Pull**: one listing (keys and ETags); only objects whose ETag moved since this
//!    working copy last saw them are read; a file the store no longer has is removed here.
//! 3. The command runs on the working copy, unchanged code for both backends.
//! 4. **Push**: every state file that differs from what was pulled is written on the
//!    version pulled (`If-Match`, or `If-None-Match: *` for a new one), every one removed
//!    here is deleted on that version. Under the lock no other writer can come between;
//!    should one have (a lock lost to a long stall, a writer without the lock), its object
//!    is a conflict, never overwritten: our version of it is kept aside under
//!    `.fractary/.unpushed/` and named, and the command fails with exit 75.
//!
//! What the working copy last saw is `.fractary/.s3-base.json` (key → the store's ETag and
//! the local file's hash). A state file here that the store never had and the base does not
//! know is refused before anything runs: it was written outside a session, and pushing it
//! could resurrect what another writer removed; `state migrate --to s3` copies it up on
//! purpose.

use super::lease::{self, Held, LeaseRecord};
use super::local::LocalStore;
use super::migrate::is_state;
use super::{ObjectStore, Written, same_etag};
use crate::fsutil::{self, FileLock};
use crate::ports::Failure;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The key of the state lock in the store.
pub const LOCK_KEY: &str = "locks/state.json";
/// What the working copy last saw, in `.fractary/`.
pub const BASE_FILE: &str = ".s3-base.json";
/// Where versions that could not be pushed are kept, in `.fractary/`.
pub const UNPUSHED_DIR: &str = ".unpushed";

/// One key as the working copy last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The store's ETag.
    pub remote: String,
    /// The local file's etag ([`LocalStore::etag_of`]).
    pub local: String,
    /// Its length in bytes (an append-only file must still begin with what was seen).
    #[serde(default)]
    pub len: u64,
}

/// Whether a state file only ever grows at its end (the remediation history): a push that
/// does not begin with the version pulled, or removes it, is refused.
pub fn append_only(key: &str) -> bool {
    key.ends_with(".jsonl")
}

/// Whether `bytes` extend the version `seen` (begin with it).
fn extends(seen: &Seen, bytes: &[u8]) -> bool {
    usize::try_from(seen.len)
        .ok()
        .and_then(|n| bytes.get(..n))
        .is_some_and(|head| LocalStore::etag_of(head) == seen.local)
}

/// The base: which store, and each key as last pulled or pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    pub location: String,
    pub keys: BTreeMap<String, Seen>,
}

/// Why a session could not run or could not share what it did.
#[derive(Debug)]
pub enum SessionError {
    /// The store failed (unreachable, denied, no bucket).
    Store(Box<Failure>),
    /// A local file could not be read or written.
    Local(crate::error::Error),
    /// Another writer held the state lock for all of `waited`.
    Busy {
        holder: Option<LeaseRecord>,
        waited: Duration,
    },
    /// State files here that the store does not have and this copy never shared.
    NotShared { location: String, keys: Vec<String> },
    /// The lock was lost while the command ran: nothing was pushed; the changed files are
    /// kept in `kept`.
    Lost { kept: PathBuf, keys: Vec<String> },
    /// Objects changed in the store behind the lock: left as they are there; ours are kept
    /// in `kept`. The rest was pushed.
    Conflicts { kept: PathBuf, keys: Vec<String> },
    /// Append-only files (the remediation history) rewritten or removed here: not pushed;
    /// ours are kept in `kept`. The rest was pushed.
    NotAppended { kept: PathBuf, keys: Vec<String> },
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = |keys: &[String]| {
            let more = if keys.len() > 1 {
                format!(" and {} more", keys.len() - 1)
            } else {
                String::new()
            };
            format!("{}{more}", keys.first().map(String::as_str).unwrap_or(""))
        };
        match self {
            SessionError::Store(e) => write!(f, "{e}"),
            SessionError::Local(e) => write!(f, "{e}"),
            SessionError::Busy { holder, waited } => match holder {
                Some(h) => write!(
                    f,
                    "the shared state is locked by {} (until {}); waited {} s",
                    h.holder,
                    crate::clock::rfc3339(h.expires_at),
                    waited.as_secs()
                ),
                None => write!(
                    f,
                    "the shared state lock kept changing hands; waited {} s",
                    waited.as_secs()
                ),
            },
            SessionError::NotShared { location, keys } => write!(
                f,
                "{} state file(s) here are not in {location} ({}): nothing was run",
                keys.len(),
                first(keys)
            ),
            SessionError::Lost { kept, keys } => write!(
                f,
                "the shared state lock was lost while the command ran; its {} change(s) ({}) were not shared and are kept in {}",
                keys.len(),
                first(keys),
                kept.display()
            ),
            SessionError::NotAppended { kept, keys } => write!(
                f,
                "{} append-only file(s) were changed here other than by appending ({}): the shared one is left as it is; ours are kept in {}",
                keys.len(),
                first(keys),
                kept.display()
            ),
            SessionError::Conflicts { kept, keys } => write!(
                f,
                "{} object(s) changed in the shared state behind the lock ({}): left as the other writer made them; ours are kept in {}",
                keys.len(),
                first(keys),
                kept.display()
            ),
        }
    }
}

impl std::error::Error for SessionError {}

impl SessionError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            SessionError::Store(_) => "check the [state] bucket, the credentials and the network",
            SessionError::Local(_) => "check the .fractary folder's permissions and free space",
            SessionError::Busy { .. } => {
                "run it again when the other command ends (`helm-cloud state status` shows the lock)"
            }
            SessionError::NotShared { .. } => {
                "copy them up with `helm-cloud state migrate --to s3` (or remove them), then run it again"
            }
            SessionError::Lost { .. }
            | SessionError::Conflicts { .. }
            | SessionError::NotAppended { .. } => {
                "compare the kept files with the shared ones and run the command again"
            }
        }
    }
}

impl From<Failure> for SessionError {
    fn from(e: Failure) -> Self {
        SessionError::Store(Box::new(e))
    }
}

impl From<crate::error::Error> for SessionError {
    fn from(e: crate::error::Error) -> Self {
        SessionError::Local(e)
    }
}

/// What a pull changed here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pulled {
    /// Read from the store (new or changed there, or changed here outside a session).
    pub fetched: Vec<String>,
    /// Removed here: the store no longer has them.
    pub removed: Vec<String>,
}

/// What a push shared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub written: Vec<String>,
    pub deleted: Vec<String>,
    pub conflicted: Vec<String>,
    /// Append-only files changed other than at their end (or removed): not pushed.
    pub not_appended: Vec<String>,
}

/// What a session did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub pulled: Pulled,
    pub pushed: Pushed,
    /// Rounds of waiting for the lock (0: it was free).
    pub waited_rounds: u32,
}

fn base_path(root: &Path) -> PathBuf {
    root.join(BASE_FILE)
}

/// The base this working copy keeps for `location` (empty when it has none, or one of
/// another store).
pub fn read_base(root: &Path, location: &str) -> Result<Option<Base>, SessionError> {
    let path = base_path(root);
    let Some(text) = fsutil::read_optional(&path)? else {
        return Ok(None);
    };
    // An unreadable base is no base: the pull reads every object again.
    Ok(serde_json::from_str::<Base>(&text)
        .ok()
        .filter(|b| b.location == location))
}

fn write_base(root: &Path, base: &Base) -> Result<(), SessionError> {
    let text = serde_json::to_string_pretty(base).expect("the base serialises") + "\n";
    fsutil::write_atomic(&base_path(root), text.as_bytes())?;
    Ok(())
}

async fn state_versions<S: ObjectStore + ?Sized>(
    store: &S,
) -> Result<BTreeMap<String, String>, Failure> {
    Ok(store
        .list_versions("")
        .await?
        .into_iter()
        .filter(|(k, _)| is_state(k))
        .collect())
}

/// Brings the working copy under `root` to the store's state: reads what moved since the
/// base, removes what the store no longer has, and refuses state files the store never
/// had (see the module's note). Writes and returns the new base.
pub async fn pull<S: ObjectStore + ?Sized>(
    store: &S,
    root: &Path,
) -> Result<(Base, Pulled), SessionError> {
    let location = store.location();
    let old = read_base(root, &location)?;
    let local = LocalStore::new(root);
    let here = state_versions(&local).await?;
    let there = state_versions(store).await?;
    let known = |k: &str| old.as_ref().and_then(|b| b.keys.get(k));

    let not_shared: Vec<String> = here
        .keys()
        .filter(|k| !there.contains_key(*k) && known(k).is_none())
        .cloned()
        .collect();
    if !not_shared.is_empty() {
        return Err(SessionError::NotShared {
            location,
            keys: not_shared,
        });
    }

    let mut base = Base {
        location,
        keys: BTreeMap::new(),
    };
    let mut pulled = Pulled::default();
    for (key, etag) in &there {
        let unchanged =
            known(key).filter(|s| same_etag(&s.remote, etag) && here.get(key) == Some(&s.local));
        if let Some(seen) = unchanged {
            base.keys.insert(key.clone(), seen.clone());
            continue;
        }
        let Some(v) = store.get(key).await? else {
            continue; // removed since the listing: as if it were not listed
        };
        let local_etag = LocalStore::etag_of(&v.bytes);
        if here.get(key) != Some(&local_etag) {
            fsutil::write_atomic(&root.join(key), &v.bytes)?;
            pulled.fetched.push(key.clone());
        }
        base.keys.insert(
            key.clone(),
            Seen {
                remote: v.etag,
                local: local_etag,
                len: v.bytes.len() as u64,
            },
        );
    }
    for key in here.keys().filter(|k| !there.contains_key(*k)) {
        // Known to the base and gone from the store: another writer removed it.
        let path = root.join(key);
        match std::fs::remove_file(&path) {
            Ok(()) => pulled.removed.push(key.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(crate::error::Error::io("removing", path, e).into()),
        }
    }
    write_base(root, &base)?;
    Ok((base, pulled))
}

/// The state files under `root` that differ from `base`: changed or new here (true), or
/// removed here (false).
async fn changes(root: &Path, base: &Base) -> Result<Vec<(String, bool)>, Failure> {
    let here = state_versions(&LocalStore::new(root)).await?;
    let mut out: Vec<(String, bool)> = here
        .iter()
        .filter(|(k, l)| base.keys.get(*k).is_none_or(|s| s.local != **l))
        .map(|(k, _)| (k.clone(), true))
        .collect();
    out.extend(
        base.keys
            .keys()
            .filter(|k| !here.contains_key(*k))
            .map(|k| (k.clone(), false)),
    );
    out.sort();
    Ok(out)
}

/// Shares what the command changed: each state file that differs from `base` is written
/// on the version pulled, each removed here deleted on it. A conflict leaves the store's
/// object as it is (see the module's note). Updates and writes the base.
pub async fn push<S: ObjectStore + ?Sized>(
    store: &S,
    root: &Path,
    base: &mut Base,
) -> Result<Pushed, SessionError> {
    let mut pushed = Pushed::default();
    for (key, present) in changes(root, base).await? {
        let seen = base.keys.get(&key).cloned();
        if !present {
            // Removed here: deleted on the version pulled (never an append-only file).
            let Some(s) = seen else { continue };
            if append_only(&key) {
                pushed.not_appended.push(key);
                continue;
            }
            match store.delete(&key, &s.remote).await? {
                Written::Done(_) => {
                    base.keys.remove(&key);
                    pushed.deleted.push(key);
                }
                Written::Conflict => pushed.conflicted.push(key),
            }
            continue;
        }
        // What is there now (the listing's hash is only what told it changed).
        let Some(v) = LocalStore::new(root).get(&key).await? else {
            continue; // removed since the listing: the next push deletes it
        };
        if append_only(&key) && seen.as_ref().is_some_and(|s| !extends(s, &v.bytes)) {
            pushed.not_appended.push(key);
            continue;
        }
        let cond = match &seen {
            Some(s) => super::Cond::Matches(s.remote.clone()),
            None => super::Cond::Absent,
        };
        let (local, len) = (LocalStore::etag_of(&v.bytes), v.bytes.len() as u64);
        match store.put(&key, v.bytes, cond).await? {
            Written::Done(remote) => {
                base.keys.insert(key.clone(), Seen { remote, local, len });
                pushed.written.push(key);
            }
            Written::Conflict => pushed.conflicted.push(key),
        }
    }
    write_base(root, base)?;
    Ok(pushed)
}

/// Copies the state files of `keys` (those still here) to `.fractary/.unpushed/<stamp>/`.
fn keep_aside(root: &Path, keys: &[String], now: DateTime<Utc>) -> Result<PathBuf, SessionError> {
    let dir = root
        .join(UNPUSHED_DIR)
        .join(now.format("%Y-%m-%dT%H-%M-%S%.3fZ").to_string());
    for key in keys {
        let from = root.join(key);
        match std::fs::read(&from) {
            Ok(bytes) => fsutil::write_atomic(&dir.join(key), &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(crate::error::Error::io("reading", from, e).into()),
        }
    }
    Ok(dir)
}

/// A command's way to share what it has written so far, before the session ends: the
/// remediation use case shares its `started` record before it acts, so that a holder that
/// dies mid-action leaves the record where the team's next session sees it (its cooldown
/// and its unfinished-run check). Outside a session (the local backend) there is nothing to
/// share: the local file is the record.
#[derive(Debug, Clone, Default)]
pub struct Checkpoint {
    tx: Arc<Mutex<Option<Asks>>>,
}

/// One request to push now, answered with whether it was shared.
type Ask = tokio::sync::oneshot::Sender<Result<(), String>>;
type Asks = tokio::sync::mpsc::UnboundedSender<Ask>;

impl Checkpoint {
    /// Push what the command has written so far; Err says why it is not shared (the
    /// caller must not act on the assumption that it is).
    pub async fn share(&self) -> Result<(), String> {
        let tx = self.tx.lock().expect("not poisoned").clone();
        let Some(tx) = tx else {
            return Ok(());
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        tx.send(reply)
            .map_err(|_| "the shared-state session has ended".to_string())?;
        answer
            .await
            .unwrap_or_else(|_| Err("the shared-state session has ended".to_string()))
    }

    fn open(&self) -> tokio::sync::mpsc::UnboundedReceiver<Ask> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        *self.tx.lock().expect("not poisoned") = Some(tx);
        rx
    }

    /// A checkpoint whose session has ended: every share fails (for tests of callers).
    #[cfg(test)]
    pub(crate) fn ended() -> Checkpoint {
        let c = Checkpoint::default();
        drop(c.open());
        c
    }

    fn close(&self) {
        *self.tx.lock().expect("not poisoned") = None;
    }
}

/// How a session takes the lock.
#[derive(Debug, Clone, Copy)]
pub struct LockTerms {
    pub lease: lease::Terms,
    /// How long to queue for the lock before giving up.
    pub wait: Duration,
}

impl LockTerms {
    /// A lease of `ttl`; queue for up to two leases and the skew margin, so a crashed
    /// holder's lock expires within the wait and is taken over.
    pub fn new(ttl: Duration) -> LockTerms {
        let lease = lease::Terms::new(ttl);
        LockTerms {
            lease,
            wait: ttl * 2 + lease.skew,
        }
    }
}

/// Queue for the state lock: Ok(held, rounds waited).
pub async fn lock<S: ObjectStore + ?Sized>(
    store: &S,
    holder: &str,
    terms: &LockTerms,
) -> Result<(Held, u32), SessionError> {
    let start = Instant::now();
    let mut rounds = 0;
    loop {
        match lease::try_take(store, LOCK_KEY, holder, Utc::now(), &terms.lease).await? {
            lease::Attempt::Taken { held, .. } => return Ok((held, rounds)),
            lease::Attempt::Busy(record) => {
                if start.elapsed() >= terms.wait {
                    return Err(SessionError::Busy {
                        holder: record,
                        waited: start.elapsed(),
                    });
                }
                rounds += 1;
                // 50 to 250 ms, jittered, so queued writers do not poll in step.
                let pause = 50 + super::jitter(200);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        }
    }
}

/// Runs `work` in a session on `store` with the working copy under `root`: lock, pull, run
/// (renewing the lock, and pushing when `work` asks through `checkpoint`), push, release.
/// `work`'s output is returned with what the session did; a session that could not share
/// the command's changes is an error after `work` ran (its output is then dropped: the
/// caller has already shown it).
pub async fn run<S, F, T>(
    store: &S,
    root: &Path,
    holder: &str,
    terms: &LockTerms,
    checkpoint: &Checkpoint,
    work: F,
) -> Result<(T, Report), SessionError>
where
    S: ObjectStore + ?Sized,
    F: Future<Output = T>,
{
    let (mut held, waited_rounds) = lock(store, holder, terms).await?;
    // One local session at a time per working copy (`serve` refreshes under it too).
    let local_lock = FileLock::acquire(&root.join(".s3-session"));
    let outcome = async {
        let _local = local_lock?;
        let (mut base, pulled) = pull(store, root).await?;
        let mut asks = checkpoint.open();
        let mut work = std::pin::pin!(work);
        let mut lost = false;
        let out = loop {
            tokio::select! {
                out = &mut work => break out,
                Some(reply) = asks.recv() => {
                    let shared = if lost || !lease::still_ours(&held, Utc::now()) {
                        Err("the shared state lock was lost".to_string())
                    } else {
                        match push(store, root, &mut base).await {
                            Ok(p) if p.conflicted.is_empty() && p.not_appended.is_empty() => Ok(()),
                            Ok(p) => Err(format!(
                                "{} object(s) could not be shared ({})",
                                p.conflicted.len() + p.not_appended.len(),
                                p.conflicted.iter().chain(&p.not_appended).cloned().collect::<Vec<_>>().join(", ")
                            )),
                            Err(e) => Err(e.to_string()),
                        }
                    };
                    let _ = reply.send(shared);
                }
                _ = tokio::time::sleep(terms.lease.renew_every()), if !lost => {
                    match lease::renew(store, LOCK_KEY, &held, Utc::now(), &terms.lease).await {
                        Ok(Some(h)) => held = h,
                        Ok(None) => lost = true,
                        // A failed renewal is tried again; the expiry decides below.
                        Err(_) => lost = !lease::still_ours(&held, Utc::now()),
                    }
                }
            }
        };
        if lost || !lease::still_ours(&held, Utc::now()) {
            let keys: Vec<String> = changes(root, &base)
                .await?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let kept = keep_aside(root, &keys, Utc::now())?;
            return Err(SessionError::Lost { kept, keys });
        }
        let pushed = push(store, root, &mut base).await?;
        if !pushed.not_appended.is_empty() {
            let kept = keep_aside(root, &pushed.not_appended, Utc::now())?;
            return Err(SessionError::NotAppended {
                kept,
                keys: pushed.not_appended,
            });
        }
        if !pushed.conflicted.is_empty() {
            let kept = keep_aside(root, &pushed.conflicted, Utc::now())?;
            return Err(SessionError::Conflicts {
                kept,
                keys: pushed.conflicted,
            });
        }
        Ok((
            out,
            Report {
                pulled,
                pushed,
                waited_rounds,
            },
        ))
    }
    .await;
    checkpoint.close();
    // Released whatever happened (a conditional delete: never a successor's lock).
    let _ = lease::release(store, LOCK_KEY, &held).await;
    outcome
}

/// A read-only refresh of the working copy (`serve`): a pull without the store's lock, when
/// no local session is running (skipped, Ok(None), when one is: it pulls itself).
pub async fn refresh<S: ObjectStore + ?Sized>(
    store: &S,
    root: &Path,
) -> Result<Option<Pulled>, SessionError> {
    let Some(_local) = FileLock::try_acquire(&root.join(".s3-session"))? else {
        return Ok(None);
    };
    Ok(Some(pull(store, root).await?.1))
}

#[cfg(test)]
mod tests {
    use super::super::Cond;
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A folder standing for the bucket, counting the objects read from it.
    struct Counted {
        inner: LocalStore,
        gets: AtomicUsize,
    }

    impl Counted {
        fn new(dir: &Path) -> Counted {
            Counted {
                inner: LocalStore::new(dir),
                gets: AtomicUsize::new(0),
            }
        }

        /// Another writer replaces `key` (on its current version), ignoring any lock.
        async fn overwrite(&self, key: &str, bytes: &[u8]) {
            let v = self.inner.get(key).await.unwrap().unwrap();
            let done = self.inner.put(key, bytes.to_vec(), Cond::Matches(v.etag));
            assert!(matches!(done.await.unwrap(), Written::Done(_)));
        }
    }

    impl ObjectStore for Counted {
        fn location(&self) -> String {
            format!("bucket:{}", self.inner.location())
        }
        async fn get(&self, key: &str) -> Result<Option<super::super::Versioned>, Failure> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            self.inner.get(key).await
        }
        async fn put(&self, key: &str, bytes: Vec<u8>, cond: Cond) -> Result<Written, Failure> {
            self.inner.put(key, bytes, cond).await
        }
        async fn delete(&self, key: &str, etag: &str) -> Result<Written, Failure> {
            self.inner.delete(key, etag).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
            self.inner.list(prefix).await
        }
        async fn list_versions(&self, prefix: &str) -> Result<Vec<(String, String)>, Failure> {
            self.inner.list_versions(prefix).await
        }
    }

    const ISSUE: &str = "helm/issues/active/CORE-001.json";
    const SEQ: &str = "helm/issues/sequence.json";

    fn write(root: &Path, key: &str, text: &str) {
        fsutil::write_atomic(&root.join(key), text.as_bytes()).unwrap();
    }

    fn read(root: &Path, key: &str) -> Option<String> {
        std::fs::read_to_string(root.join(key)).ok()
    }

    fn terms() -> LockTerms {
        LockTerms::new(Duration::from_secs(30))
    }

    /// A session of `holder` with the usual terms and no checkpoint.
    async fn session<F: Future>(
        store: &Counted,
        root: &Path,
        holder: &str,
        work: F,
    ) -> Result<(F::Output, Report), SessionError> {
        run(store, root, holder, &terms(), &Checkpoint::default(), work).await
    }

    #[tokio::test]
    async fn state_here_that_the_store_never_had_is_refused_and_nothing_changes() {
        let (bucket, here) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let store = Counted::new(bucket.path());
        write(here.path(), ISSUE, "{\"id\": \"CORE-001\"}\n");
        write(here.path(), "shared/environments.json", "{}\n");
        let err = pull(&store, here.path()).await.unwrap_err();
        match &err {
            SessionError::NotShared { keys, .. } => assert_eq!(keys, &[ISSUE.to_string()]),
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("not in bucket:"), "{err}");
        assert!(err.hint().contains("state migrate --to s3"));
        assert_eq!(
            read(here.path(), ISSUE).as_deref(),
            Some("{\"id\": \"CORE-001\"}\n")
        );
        assert!(!here.path().join(BASE_FILE).exists(), "no base is written");
    }

    #[tokio::test]
    async fn two_working_copies_share_creates_changes_and_removals_reading_only_what_moved() {
        let bucket = tempfile::tempdir().unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let store = Counted::new(bucket.path());
        // A opens an issue; configuration stays on A's machine.
        let ((), done) = session(&store, a.path(), "a", async {
            write(a.path(), ISSUE, "{\"v\": 1}\n");
            write(a.path(), SEQ, "{\"CORE\": 1}\n");
            write(a.path(), "shared/aws-credentials.json", "secret");
        })
        .await
        .unwrap();
        assert_eq!(done.pushed.written, [ISSUE, SEQ]);
        assert!(read(bucket.path(), "shared/aws-credentials.json").is_none());
        assert!(
            read(bucket.path(), LOCK_KEY).is_none(),
            "the lock is released"
        );

        // B sees it, changes it.
        let ((), done) = session(&store, b.path(), "b", async {
            assert_eq!(read(b.path(), ISSUE).as_deref(), Some("{\"v\": 1}\n"));
            write(b.path(), ISSUE, "{\"v\": 2}\n");
        })
        .await
        .unwrap();
        assert_eq!(done.pulled.fetched, [ISSUE, SEQ]);
        assert_eq!(done.pushed.written, [ISSUE]);

        // A reads only the one object that moved.
        store.gets.store(0, Ordering::SeqCst);
        let ((), done) = session(&store, a.path(), "a", async {
            assert_eq!(read(a.path(), ISSUE).as_deref(), Some("{\"v\": 2}\n"));
            std::fs::remove_file(a.path().join(ISSUE)).unwrap();
        })
        .await
        .unwrap();
        assert_eq!(done.pulled.fetched, [ISSUE]);
        // One read of the lock (taking it) and one of the issue.
        assert_eq!(store.gets.load(Ordering::SeqCst), 2);
        assert_eq!(done.pushed.deleted, [ISSUE]);
        assert!(read(bucket.path(), ISSUE).is_none());

        // B's copy loses the file the store no longer has; nothing is pushed back.
        let ((), done) = session(&store, b.path(), "b", async {}).await.unwrap();
        assert_eq!(done.pulled.removed, [ISSUE]);
        assert!(read(b.path(), ISSUE).is_none());
        assert_eq!(done.pushed, Pushed::default());
    }

    #[tokio::test]
    async fn a_change_behind_the_lock_is_never_overwritten_and_ours_is_kept_aside() {
        let bucket = tempfile::tempdir().unwrap();
        let here = tempfile::tempdir().unwrap();
        let store = Counted::new(bucket.path());
        session(&store, here.path(), "a", async {
            write(here.path(), ISSUE, "{\"v\": 1}\n");
        })
        .await
        .unwrap();
        let err = session(&store, here.path(), "a", async {
            write(here.path(), ISSUE, "{\"v\": \"ours\"}\n");
            // A writer that ignores the lock changes it meanwhile.
            store.overwrite(ISSUE, b"{\"v\": \"theirs\"}\n").await;
        })
        .await
        .unwrap_err();
        let SessionError::Conflicts { kept, keys } = &err else {
            panic!("{err}")
        };
        assert_eq!(keys, &[ISSUE.to_string()]);
        assert_eq!(
            read(bucket.path(), ISSUE).as_deref(),
            Some("{\"v\": \"theirs\"}\n")
        );
        assert_eq!(
            std::fs::read_to_string(kept.join(ISSUE)).unwrap(),
            "{\"v\": \"ours\"}\n"
        );
        assert!(
            read(bucket.path(), LOCK_KEY).is_none(),
            "released after a conflict too"
        );
        // The next session brings the shared version here.
        session(&store, here.path(), "a", async {}).await.unwrap();
        assert_eq!(
            read(here.path(), ISSUE).as_deref(),
            Some("{\"v\": \"theirs\"}\n")
        );
    }

    #[tokio::test]
    async fn a_held_lock_is_waited_for_then_refused_naming_its_holder() {
        let bucket = tempfile::tempdir().unwrap();
        let here = tempfile::tempdir().unwrap();
        let store = Counted::new(bucket.path());
        let t = LockTerms {
            lease: lease::Terms::new(Duration::from_secs(60)),
            wait: Duration::from_millis(300),
        };
        let (held, _) = lock(&store, "ci-job:42:beef", &t).await.unwrap();
        let ran = std::cell::Cell::new(false);
        let err = run(
            &store,
            here.path(),
            "me",
            &t,
            &Checkpoint::default(),
            async { ran.set(true) },
        )
        .await
        .unwrap_err();
        assert!(!ran.get(), "nothing runs without the lock");
        assert!(matches!(err, SessionError::Busy { .. }), "{err}");
        assert!(
            err.to_string().contains("locked by ci-job:42:beef"),
            "{err}"
        );
        // The holder's lock is untouched by the refused session.
        let now = store.inner.get(LOCK_KEY).await.unwrap().unwrap();
        assert_eq!(now.etag, held.etag);
    }

    #[tokio::test]
    async fn a_lock_lost_while_running_pushes_nothing_and_keeps_the_changes() {
        let bucket = tempfile::tempdir().unwrap();
        let here = tempfile::tempdir().unwrap();
        let store = Counted::new(bucket.path());
        let t = LockTerms {
            lease: lease::Terms::new(Duration::from_millis(300)),
            wait: Duration::from_secs(5),
        };
        let err = run(
            &store,
            here.path(),
            "me",
            &t,
            &Checkpoint::default(),
            async {
                write(here.path(), ISSUE, "{\"v\": 1}\n");
                // Another holder takes the lock over (as after a long stall past its expiry).
                store.overwrite(LOCK_KEY, b"{\"holder\": \"other\"}").await;
                tokio::time::sleep(Duration::from_millis(400)).await;
            },
        )
        .await
        .unwrap_err();
        let SessionError::Lost { kept, keys } = &err else {
            panic!("{err}")
        };
        assert_eq!(keys, &[ISSUE.to_string()]);
        assert!(kept.join(ISSUE).exists());
        assert!(read(bucket.path(), ISSUE).is_none(), "nothing pushed");
        assert_eq!(
            read(bucket.path(), LOCK_KEY).as_deref(),
            Some("{\"holder\": \"other\"}"),
            "the successor's lock is not released by us"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_sessions_from_many_working_copies_lose_no_update() {
        let bucket = tempfile::tempdir().unwrap();
        let store = Arc::new(Counted::new(bucket.path()));
        let mut tasks = Vec::new();
        let copies: Vec<_> = (0..12).map(|_| tempfile::tempdir().unwrap()).collect();
        for (i, dir) in copies.iter().enumerate() {
            let (store, root) = (Arc::clone(&store), dir.path().to_path_buf());
            tasks.push(tokio::spawn(async move {
                let r = root.clone();
                run(
                    &*store,
                    &root,
                    &format!("w{i}"),
                    &terms(),
                    &Checkpoint::default(),
                    async move {
                        // Read-modify-write of one shared counter, as `sync` does the sequence.
                        let n: u64 = read(&r, SEQ).map_or(0, |t| t.trim().parse().unwrap());
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        write(&r, SEQ, &format!("{}\n", n + 1));
                    },
                )
                .await
                .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(read(bucket.path(), SEQ).as_deref(), Some("12\n"));
    }

    #[tokio::test]
    async fn the_remediation_history_is_only_ever_appended_to() {
        const H: &str = "plugins/helm-cloud/remediations/test/history.jsonl";
        let bucket = tempfile::tempdir().unwrap();
        let here = tempfile::tempdir().unwrap();
        let store = Counted::new(bucket.path());
        session(&store, here.path(), "a", async {
            write(here.path(), H, "{\"n\": 1}\n");
        })
        .await
        .unwrap();
        // An append is shared.
        let ((), done) = session(&store, here.path(), "a", async {
            write(here.path(), H, "{\"n\": 1}\n{\"n\": 2}\n");
        })
        .await
        .unwrap();
        assert_eq!(done.pushed.written, [H]);
        // A rewrite of an earlier line, or a removal, is not.
        for rewrite in [true, false] {
            let err = session(&store, here.path(), "a", async {
                if rewrite {
                    write(here.path(), H, "{\"n\": 9}\n{\"n\": 2}\n{\"n\": 3}\n");
                } else {
                    std::fs::remove_file(here.path().join(H)).unwrap();
                }
            })
            .await
            .unwrap_err();
            assert!(matches!(err, SessionError::NotAppended { .. }), "{err}");
            assert_eq!(
                read(bucket.path(), H).as_deref(),
                Some("{\"n\": 1}\n{\"n\": 2}\n"),
                "the shared history is as it was"
            );
            // The next session restores the shared history here.
            session(&store, here.path(), "a", async {}).await.unwrap();
            assert_eq!(read(here.path(), H), read(bucket.path(), H));
        }
    }

    #[tokio::test]
    async fn a_checkpoint_shares_what_was_written_before_the_command_ends() {
        const H: &str = "plugins/helm-cloud/remediations/test/history.jsonl";
        let bucket = tempfile::tempdir().unwrap();
        let here = tempfile::tempdir().unwrap();
        let store = Counted::new(bucket.path());
        let cp = Checkpoint::default();
        assert_eq!(
            cp.share().await,
            Ok(()),
            "outside a session: nothing to share"
        );
        let ((), done) = run(&store, here.path(), "a", &terms(), &cp, async {
            write(here.path(), H, "{\"decision\": \"started\"}\n");
            cp.share().await.unwrap();
            assert_eq!(
                read(bucket.path(), H).as_deref(),
                Some("{\"decision\": \"started\"}\n"),
                "shared before the command goes on"
            );
            write(
                here.path(),
                H,
                "{\"decision\": \"started\"}\n{\"decision\": \"applied\"}\n",
            );
        })
        .await
        .unwrap();
        assert_eq!(done.pushed.written, [H], "the end pushes the rest");
        assert_eq!(read(bucket.path(), H).unwrap().lines().count(), 2);
        assert!(cp.share().await.is_ok(), "after the session: a no-op again");
    }
}
