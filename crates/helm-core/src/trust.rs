//! Which contents of `domain-monitors.json` the user allowed to run commands, as direnv's
//! `allow` does: a project file names shell-free commands for external domains, and a
//! cloned repository must not run code on the first `helm-cloud dashboard`. The user's own
//! config directory holds, per file path, the SHA-256 of the content they trusted; a changed
//! file is untrusted again until they say otherwise.

use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The variable that trusts every domain command (for CI, where nobody can answer).
pub const TRUST_ALL_ENV: &str = "HELM_TRUST_DOMAIN_COMMANDS";

/// Lowercase hex SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The trust file: `$XDG_CONFIG_HOME/helm-cloud/trusted-domain-monitors.json`, else
/// `~/.config/helm-cloud/…`.
#[derive(Debug, Clone)]
pub struct TrustStore {
    pub path: PathBuf,
}

impl TrustStore {
    pub fn in_user_config() -> Option<TrustStore> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(TrustStore {
            path: base.join("helm-cloud").join("trusted-domain-monitors.json"),
        })
    }

    fn key(file: &Path) -> String {
        std::fs::canonicalize(file)
            .unwrap_or_else(|_| file.to_path_buf())
            .to_string_lossy()
            .into_owned()
    }

    fn read(&self) -> Result<Map<String, Value>> {
        let Some(text) = fsutil::read_optional(&self.path)? else {
            return Ok(Map::new());
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            Error::invalid(&self.path, Some(e.line()), None, format!("not JSON: {e}"))
        })?;
        Ok(v.get("trusted")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default())
    }

    fn write(&self, trusted: Map<String, Value>) -> Result<()> {
        let doc = json!({"version": "1.0.0", "trusted": trusted});
        fsutil::write_atomic(
            &self.path,
            (serde_json::to_string_pretty(&doc).expect("JSON") + "\n").as_bytes(),
        )
    }

    /// Whether `content` of `file` is the content the user trusted.
    pub fn is_trusted(&self, file: &Path, content: &[u8]) -> Result<bool> {
        Ok(self.read()?.get(&Self::key(file)).and_then(Value::as_str) == Some(&digest(content)))
    }

    /// Trust `content` of `file`; returns its digest.
    pub fn trust(&self, file: &Path, content: &[u8]) -> Result<String> {
        let _lock = FileLock::acquire(&self.path)?;
        let mut t = self.read()?;
        let d = digest(content);
        t.insert(Self::key(file), Value::from(d.clone()));
        self.write(t)?;
        Ok(d)
    }

    /// Forget `file`; returns whether it was trusted.
    pub fn untrust(&self, file: &Path) -> Result<bool> {
        let _lock = FileLock::acquire(&self.path)?;
        let mut t = self.read()?;
        let was = t.remove(&Self::key(file)).is_some();
        self.write(t)?;
        Ok(was)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_follows_the_exact_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = TrustStore {
            path: dir.path().join("cfg/trusted.json"),
        };
        let file = dir.path().join("domain-monitors.json");
        std::fs::write(&file, b"{}").unwrap();
        assert!(!store.is_trusted(&file, b"{}").unwrap());
        store.trust(&file, b"{}").unwrap();
        assert!(store.is_trusted(&file, b"{}").unwrap());
        assert!(
            !store.is_trusted(&file, b"{ }").unwrap(),
            "a changed file is untrusted"
        );
        assert!(store.untrust(&file).unwrap());
        assert!(!store.is_trusted(&file, b"{}").unwrap());
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
