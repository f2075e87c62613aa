//! The `version` field of every shared file: newer majors are refused, older ones upgraded
//! in memory only (a file is never rewritten just to bump its version).

use crate::error::{Error, Result};
use std::path::Path;

/// The major version of the shared file formats this build understands.
pub const KNOWN_MAJOR: u64 = 1;
/// The version helm-cloud writes into files it creates.
pub const CURRENT: &str = "1.0.0";

/// How a file's version compares with what this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionCheck {
    Current,
    /// Older (or absent): read it and treat it as current in memory.
    Older,
}

/// Check a `version` value read from `path` (`line` for the message when known).
pub fn check(path: &Path, line: Option<usize>, version: Option<&str>) -> Result<VersionCheck> {
    let Some(v) = version else {
        return Ok(VersionCheck::Older);
    };
    let major = v
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u64>().ok())
        .ok_or_else(|| {
            Error::invalid(
                path,
                line,
                Some("version".into()),
                format!("version {v:?} is not MAJOR.MINOR.PATCH"),
            )
        })?;
    match major.cmp(&KNOWN_MAJOR) {
        std::cmp::Ordering::Greater => Err(Error::invalid(
            path,
            line,
            Some("version".into()),
            format!(
                "format version {v} is newer than this helm-cloud understands (major {KNOWN_MAJOR})"
            ),
        )
        .with_hint("upgrade helm-cloud; the file was left untouched")),
        std::cmp::Ordering::Equal => Ok(VersionCheck::Current),
        std::cmp::Ordering::Less => Ok(VersionCheck::Older),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_major_is_refused_and_older_accepted() {
        let p = Path::new("f.json");
        assert_eq!(
            check(p, None, Some("1.2.0")).unwrap(),
            VersionCheck::Current
        );
        assert_eq!(check(p, None, Some("0.9")).unwrap(), VersionCheck::Older);
        assert_eq!(check(p, None, None).unwrap(), VersionCheck::Older);
        let err = check(p, Some(2), Some("2.0.0")).unwrap_err();
        assert!(err.to_string().contains("newer"), "{err}");
        assert!(check(p, None, Some("banana")).is_err());
    }
}
