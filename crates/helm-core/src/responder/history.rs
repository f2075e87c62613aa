//! The remediation history (`remediations/<env>/history.jsonl`): one JSON object a line,
//! appended and fsynced, never rewritten. A `started` line is written before the first
//! mutating call, so a crash leaves a trace.

use crate::clock;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Started,
    Applied,
    DryRun,
    Refused,
    Cancelled,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub ok: bool,
    pub detail: String,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub timestamp: String,
    pub environment: String,
    pub action: String,
    pub target: Option<TargetRef>,
    pub policy: String,
    pub decision: Decision,
    pub reason: String,
    pub issue_id: Option<String>,
    pub before: Value,
    pub after: Value,
    pub verification: Option<Verification>,
    pub actor: String,
}

/// The history file of an environment.
#[derive(Debug, Clone)]
pub struct History {
    pub path: PathBuf,
}

impl History {
    pub fn new(plugin_dir: &Path, env: &str) -> History {
        History {
            path: plugin_dir
                .join("remediations")
                .join(env)
                .join("history.jsonl"),
        }
    }

    /// Append one record and fsync it.
    pub fn append(&self, record: &Record) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io("opening", &self.path, e))?;
        let mut line = serde_json::to_string(record).expect("records serialise");
        line.push('\n');
        f.write_all(line.as_bytes())
            .map_err(|e| Error::io("appending to", &self.path, e))?;
        f.sync_all()
            .map_err(|e| Error::io("syncing", &self.path, e))
    }

    /// Every record (a line that does not parse is skipped: the file is append-only and a
    /// torn last line after a crash must not hide the rest).
    pub fn read(&self) -> Result<Vec<Record>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("reading", &self.path, e)),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }

    /// When `action` last started or was applied on `resource`, if within `since`.
    /// The time of the latest `started` line of `action` on `resource` that no `applied` or
    /// `failed` line followed: a run that crashed mid-change.
    pub fn unfinished(&self, action: &str, resource: &str) -> Result<Option<String>> {
        let mut open: Option<String> = None;
        for r in self.read()? {
            if r.action != action || r.target.as_ref().is_none_or(|t| t.id != resource) {
                continue;
            }
            match r.decision {
                Decision::Started => open = Some(r.timestamp.clone()),
                Decision::Applied | Decision::Failed => open = None,
                _ => {}
            }
        }
        Ok(open)
    }

    pub fn last_run(
        &self,
        action: &str,
        resource: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .read()?
            .into_iter()
            .filter(|r| r.action == action && r.target.as_ref().is_some_and(|t| t.id == resource))
            .filter(|r| matches!(r.decision, Decision::Started | Decision::Applied))
            .filter_map(|r| clock::parse_rfc3339(&r.timestamp))
            .filter(|t| *t >= since)
            .max())
    }
}

/// Who is acting: `$USER@host` when known.
pub fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        format!("{user} (helm-cloud)")
    } else {
        format!("{user}@{host} (helm-cloud)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(decision: Decision, at: &str) -> Record {
        Record {
            timestamp: at.into(),
            environment: "test".into(),
            action: "restart_lambda".into(),
            target: Some(TargetRef {
                id: "api".into(),
                kind: "lambda".into(),
                arn: "arn".into(),
            }),
            policy: "auto".into(),
            decision,
            reason: String::new(),
            issue_id: None,
            before: Value::Null,
            after: Value::Null,
            verification: None,
            actor: "t".into(),
        }
    }

    #[test]
    fn appends_and_finds_the_last_run_within_the_cooldown() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::new(dir.path(), "test");
        h.append(&record(Decision::DryRun, "2025-11-03T20:00:00Z"))
            .unwrap();
        h.append(&record(Decision::Started, "2025-11-03T20:01:00Z"))
            .unwrap();
        h.append(&record(Decision::Applied, "2025-11-03T20:01:05Z"))
            .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&h.path)
            .unwrap()
            .write_all(b"{\"torn")
            .unwrap();
        assert_eq!(h.read().unwrap().len(), 3);
        let since = clock::parse_rfc3339("2025-11-03T20:00:30Z").unwrap();
        assert_eq!(
            h.last_run("restart_lambda", "api", since).unwrap(),
            clock::parse_rfc3339("2025-11-03T20:01:05Z")
        );
        let later = clock::parse_rfc3339("2025-11-03T21:00:00Z").unwrap();
        assert_eq!(h.last_run("restart_lambda", "api", later).unwrap(), None);
        assert_eq!(h.last_run("reboot_rds", "api", since).unwrap(), None);
    }
}
