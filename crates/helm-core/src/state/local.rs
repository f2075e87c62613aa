//! The local backend of [`ObjectStore`]: a folder, one file per key. A write holds the
//! key's lock (`<file>.lock`) across its check and its atomic replace, and the etag is a
//! hash of the content, so conditional writes mean on one machine what they mean on S3.

use super::{Cond, ObjectStore, Versioned, Written, check_key, same_etag};
use crate::fsutil::{self, FileLock};
use crate::ports::Failure;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> LocalStore {
        LocalStore { root: root.into() }
    }

    #[allow(clippy::result_large_err)] // the port's own error type
    fn path(&self, key: &str) -> Result<PathBuf, Failure> {
        check_key(key).map_err(|why| failure("state:key", &self.root, why))?;
        Ok(self.root.join(key))
    }

    /// The content's etag: the first 32 hex digits of its SHA-256, quoted as S3 quotes.
    pub fn etag_of(bytes: &[u8]) -> String {
        let digest = Sha256::digest(bytes);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    }

    #[allow(clippy::result_large_err)] // the port's own error type
    fn read(path: &Path) -> Result<Option<Versioned>, Failure> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(Versioned {
                etag: Self::etag_of(&bytes),
                bytes,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(failure("state:read", path, e.to_string())),
        }
    }

    fn holds(current: &Option<Versioned>, cond: &Cond) -> bool {
        match (cond, current) {
            (Cond::Absent, None) => true,
            (Cond::Matches(etag), Some(v)) => same_etag(etag, &v.etag),
            _ => false,
        }
    }
}

fn failure(api: &str, path: &Path, why: impl Into<String>) -> Failure {
    let why = why.into();
    Failure::unavailable(
        api,
        why.clone(),
        format!("{api} failed on {}: {why}", path.display()),
        "check the folder's permissions and free space",
    )
}

fn to_failure(api: &str, path: &Path, e: crate::error::Error) -> Failure {
    failure(api, path, e.to_string())
}

impl ObjectStore for LocalStore {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    async fn get(&self, key: &str) -> Result<Option<Versioned>, Failure> {
        Self::read(&self.path(key)?)
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, cond: Cond) -> Result<Written, Failure> {
        let path = self.path(key)?;
        let _lock = FileLock::acquire(&path).map_err(|e| to_failure("state:lock", &path, e))?;
        if !Self::holds(&Self::read(&path)?, &cond) {
            return Ok(Written::Conflict);
        }
        fsutil::write_atomic(&path, &bytes).map_err(|e| to_failure("state:write", &path, e))?;
        Ok(Written::Done(Self::etag_of(&bytes)))
    }

    async fn delete(&self, key: &str, etag: &str) -> Result<Written, Failure> {
        let path = self.path(key)?;
        let _lock = FileLock::acquire(&path).map_err(|e| to_failure("state:lock", &path, e))?;
        if !Self::holds(&Self::read(&path)?, &Cond::Matches(etag.to_string())) {
            return Ok(Written::Conflict);
        }
        std::fs::remove_file(&path).map_err(|e| failure("state:delete", &path, e.to_string()))?;
        Ok(Written::Done(String::new()))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, Failure> {
        let mut out = Vec::new();
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(failure("state:list", &dir, e.to_string())),
            };
            for e in entries.flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                // Locks, temporary files and hidden markers are not state.
                if name.starts_with('.') || name.ends_with(".lock") || name.ends_with(".tmp") {
                    continue;
                }
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(rel) = p.strip_prefix(&self.root) {
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(prefix) {
                        out.push(key);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    async fn list_versions(&self, prefix: &str) -> Result<Vec<(String, String)>, Failure> {
        let mut out = Vec::new();
        for key in self.list(prefix).await? {
            // A file removed since the listing is not there.
            if let Some(v) = Self::read(&self.root.join(&key))? {
                out.push((key, v.etag));
            }
        }
        Ok(out)
    }
}
