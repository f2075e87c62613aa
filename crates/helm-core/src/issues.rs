//! The issue registry (`.fractary/helm/issues/{active,resolved}/<id>.json`): one issue per
//! problem, found again by its fingerprint (environment, resource, check) instead of filed
//! twice; resolved when the check passes again; ids never reused. Writes are atomic and
//! serialised by one lock for the whole registry.

use crate::clock;
use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock};
use crate::registry::{from_value, parse_json};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Issue severity, with the weights of FORMATS.md. Read in any case (the plugins' other
/// documented shape writes `"severity": "high"`); written upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Severity::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown severity {s:?} (CRITICAL, HIGH, MEDIUM or LOW)"
            ))
        })
    }
}

impl Severity {
    /// `critical`, `CRITICAL`, `Critical`…
    pub fn parse(s: &str) -> Option<Severity> {
        match s.trim().to_ascii_uppercase().as_str() {
            "CRITICAL" => Some(Severity::Critical),
            "HIGH" => Some(Severity::High),
            "MEDIUM" => Some(Severity::Medium),
            "LOW" => Some(Severity::Low),
            _ => None,
        }
    }

    pub fn weight(self) -> f64 {
        match self {
            Severity::Critical => 10.0,
            Severity::High => 7.0,
            Severity::Medium => 5.0,
            Severity::Low => 2.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    Active,
    Escalated,
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One issue: the plugin's fields plus helm-cloud's. Unknown fields are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    pub id: String,
    pub domain: String,
    pub severity: Severity,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub slo_breach: bool,
    pub detected_at: String,
    pub environment: String,
    #[serde(default)]
    pub affected_resources: Vec<String>,
    #[serde(default)]
    pub metrics: Value,
    #[serde(default)]
    pub work_item_id: Option<String>,
    #[serde(default = "active")]
    pub status: IssueStatus,
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub last_seen_at: Option<String>,
    #[serde(default = "one")]
    pub occurrences: u64,
    #[serde(default)]
    pub resolved_at: Option<String>,
    #[serde(default)]
    pub escalated_at: Option<String>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn active() -> IssueStatus {
    IssueStatus::Active
}
fn one() -> u64 {
    1
}

/// `[a-z]+-[0-9]+`, checked before any file is touched (no path traversal).
pub fn valid_id(id: &str) -> bool {
    let Some((prefix, number)) = id.split_once('-') else {
        return false;
    };
    !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Refuse a malformed id as bad usage.
pub fn check_id(id: &str) -> Result<()> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(Error::usage(
            format!("{id:?} is not an issue id"),
            Some("issue ids look like infra-001".into()),
        ))
    }
}

/// The id prefix of a domain: `infrastructure` → `infra`.
pub fn domain_prefix(domain: &str) -> String {
    match domain {
        "infrastructure" => "infra".into(),
        "application" => "app".into(),
        other => {
            let p: String = other
                .chars()
                .filter(|c| c.is_ascii_alphabetic())
                .map(|c| c.to_ascii_lowercase())
                .collect();
            if p.is_empty() { "issue".into() } else { p }
        }
    }
}

/// The stable identity of a problem.
pub fn fingerprint(environment: &str, resource: &str, check: &str) -> String {
    format!("{environment}/{resource}/{check}")
}

/// A problem seen by a check, to open or update an issue for.
#[derive(Debug, Clone)]
pub struct Detection {
    /// The account of the resource, when it is known (an issue carries it).
    pub account: Option<String>,
    pub environment: String,
    pub resource: String,
    pub check: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub slo_breach: bool,
    pub metrics: Value,
}

impl Detection {
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.environment, &self.resource, &self.check)
    }
}

/// What a run evaluated and could judge: the evidence an issue needs to resolve. A check
/// that was not read (no traffic, a failed metrics read, an UNKNOWN resource, a control that
/// could not be evaluated) is absent, so its issue stays open.
#[derive(Debug, Clone, Default)]
pub struct Evaluated {
    /// (resource, check or family): None resource is every resource; a check ending in `.`
    /// or `:` covers the family (`sg.`, `alarm:`).
    entries: Vec<(Option<String>, String)>,
    /// (resource, check) held back by a suppression: judged by no one, so its issue is
    /// neither opened nor resolved.
    excluded: Vec<(String, String)>,
}

impl Evaluated {
    /// `check` on `resource` is suppressed: not evidence either way.
    pub fn exclude(&mut self, resource: &str, check: &str) {
        self.excluded
            .push((resource.to_string(), check.to_string()));
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// `check` (or a family) was evaluated on `resource`.
    pub fn add(&mut self, resource: &str, check: &str) {
        self.entries
            .push((Some(resource.to_string()), check.to_string()));
    }

    /// `check` (or a family) was evaluated on every resource named `… ({region})`: a
    /// regional sweep judges its own region only.
    pub fn add_in_region(&mut self, region: &str, check: &str) {
        self.entries
            .push((Some(format!("*({region})")), check.to_string()));
    }

    /// `check` (or a family) was evaluated on every resource it applies to.
    pub fn add_everywhere(&mut self, check: &str) {
        self.entries.push((None, check.to_string()));
    }

    /// The same evidence, judged within one account of an environment that spans
    /// accounts: `Some(id)` covers only resources named `<id>:…` (see [`split_account`]),
    /// `None` (the project's own credentials) only those named without an account. A check
    /// one account evaluated everywhere then says nothing of another account's resources.
    pub fn within_account(self, account: Option<&str>) -> Evaluated {
        let scope = format!("@{}:", account.unwrap_or(""));
        let scoped = |r: &str| {
            if account.is_some() && !r.starts_with('*') {
                format!("{scope}{}", with_account(account, r))
            } else {
                format!("{scope}{r}")
            }
        };
        Evaluated {
            entries: self
                .entries
                .into_iter()
                .map(|(r, c)| (Some(scoped(r.as_deref().unwrap_or("*"))), c))
                .collect(),
            excluded: self
                .excluded
                .into_iter()
                .map(|(r, c)| (with_account(account, &r), c))
                .collect(),
        }
    }

    /// Everything `other` evaluated (and excluded) as well.
    pub fn extend(&mut self, other: Evaluated) {
        self.entries.extend(other.entries);
        self.excluded.extend(other.excluded);
    }

    pub fn covers(&self, resource: &str, check: &str) -> bool {
        !self
            .excluded
            .iter()
            .any(|(r, c)| r == resource && c == check)
            && self
                .entries
                .iter()
                .any(|e| entry_covers(e, resource, check))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `check` was evaluated on some resource (by name or through its family).
    pub fn mentions(&self, check: &str) -> bool {
        self.entries.iter().any(|(_, c)| {
            c == check || ((c.ends_with('.') || c.ends_with(':')) && check.starts_with(c.as_str()))
        })
    }

    /// How many evaluated scopes none of `failed` (resource, check) falls in: the checks
    /// that passed.
    pub fn passing(&self, failed: &[(String, String)]) -> usize {
        self.entries
            .iter()
            .filter(|e| !failed.iter().any(|(r, c)| entry_covers(e, r, c)))
            .count()
    }
}

/// Whether one evaluated entry (resource or every one, check or family) covers a check.
fn entry_covers((r, c): &(Option<String>, String), resource: &str, check: &str) -> bool {
    r.as_deref().is_none_or(|r| resource_matches(r, resource))
        && (c == check || ((c.ends_with('.') || c.ends_with(':')) && check.starts_with(c.as_str())))
}

/// Whether an entry's resource pattern covers `resource`: the resource itself, `*(region)`
/// every resource named `… (region)`, and `@<account>:<pattern>` the pattern within one
/// account (`@:` the resources named without an account), where `*` is all of them.
fn resource_matches(pattern: &str, resource: &str) -> bool {
    if let Some(scoped) = pattern.strip_prefix('@') {
        let Some((account, inner)) = scoped.split_once(':') else {
            return false;
        };
        let (own, _) = split_account(resource);
        if own.unwrap_or("") != account {
            return false;
        }
        return inner == "*" || resource_matches(inner, resource);
    }
    pattern == resource
        || pattern
            .strip_prefix('*')
            .is_some_and(|region| !region.is_empty() && resource.ends_with(&format!(" {region}")))
}

/// A resource named within an account, as an audit of an environment that spans accounts
/// names it: `<12-digit account>:<resource>` (None: unchanged).
pub fn with_account(account: Option<&str>, resource: &str) -> String {
    match account {
        Some(a) if split_account(resource).0 != Some(a) => format!("{a}:{resource}"),
        _ => resource.to_string(),
    }
}

/// The account a resource is named within (`123456789012:sg-1 (us-east-1)`), and the rest.
pub fn split_account(resource: &str) -> (Option<&str>, &str) {
    match resource.split_once(':') {
        Some((a, rest)) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => {
            (Some(a), rest)
        }
        _ => (None, resource),
    }
}

/// The resource and check of a fingerprint `<env>/<resource>/<check>`.
/// The environment of a fingerprint.
pub fn fingerprint_env(fp: &str) -> Option<&str> {
    fp.split_once('/').map(|(e, _)| e)
}

pub fn fingerprint_parts(fp: &str) -> Option<(&str, &str)> {
    let mut it = fp.splitn(3, '/');
    let _env = it.next()?;
    Some((it.next()?, it.next()?))
}

/// Whether an issue of source `issue_source` belongs to a sync of `source`. Each audit type
/// is its own source (`audit:cost`…); issues written as plain `audit` before that are
/// placed by their check.
fn same_source(issue_source: &str, source: &str, check: &str) -> bool {
    if issue_source == source {
        return true;
    }
    issue_source == "audit"
        && source.strip_prefix("audit:") == Some(crate::auditor::type_of_check(check))
}

/// What a sync did.
#[derive(Debug, Clone, Default)]
pub struct SyncOutcome {
    /// (fingerprint, issue id, opened now?) per detection, in detection order.
    pub issues: Vec<(String, String, bool)>,
    pub resolved: Vec<String>,
}

/// The issue registry of a project.
#[derive(Debug, Clone)]
pub struct IssueStore {
    pub active_dir: PathBuf,
    pub resolved_dir: PathBuf,
    pub domain: String,
    pub retention_days: i64,
    unreadable: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl IssueStore {
    /// `active_path`/`resolved_path` are relative to `.fractary/` (monitoring.toml `[issues]`).
    pub fn new(
        fractary: &Path,
        active_path: &str,
        resolved_path: &str,
        domain: &str,
        retention_days: i64,
    ) -> Self {
        IssueStore {
            active_dir: fractary.join(active_path),
            resolved_dir: fractary.join(resolved_path),
            domain: domain.to_string(),
            retention_days,
            unreadable: Default::default(),
        }
    }

    fn root(&self) -> PathBuf {
        self.active_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.active_dir.clone())
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.root().join("issues"))
    }

    /// The lock under which an issue's escalation is decided and recorded (waits for it).
    pub fn escalation_lock(&self, id: &str) -> Result<FileLock> {
        check_id(id)?;
        FileLock::acquire(&self.root().join(format!("escalate-{id}")))
    }

    fn sequence_path(&self) -> PathBuf {
        self.root().join("sequence.json")
    }

    /// Issue files that could not be read since the last call, one line each (the plugin
    /// carries on and shows what it can: so do we, and say which were skipped).
    pub fn take_unreadable(&self) -> Vec<String> {
        std::mem::take(&mut *self.unreadable.lock().expect("not poisoned"))
    }

    fn read_dir(&self, dir: &Path) -> Result<Vec<Issue>> {
        let mut out = Vec::new();
        for p in fsutil::json_files(dir)? {
            match read_issue(&p) {
                Ok(i) => out.push(i),
                Err(e) if e.kind() == crate::error::ErrorKind::InvalidFile => {
                    let mut u = self.unreadable.lock().expect("not poisoned");
                    let line = format!("skipped an unreadable issue file: {e}");
                    if !u.contains(&line) {
                        u.push(line);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Active (and escalated) issues. An issue found in both folders is one whose move to
    /// `resolved/` was interrupted (a crash between the write and the removal): the resolved
    /// copy wins and the stale active file is removed, so the move completes on this read.
    pub fn active(&self) -> Result<Vec<Issue>> {
        let mut out = Vec::new();
        for issue in self.read_dir(&self.active_dir)? {
            let done = self.resolved_dir.join(format!("{}.json", issue.id));
            if done.exists() && read_issue(&done).is_ok_and(|r| r.status == IssueStatus::Resolved) {
                let stale = self.active_dir.join(format!("{}.json", issue.id));
                match std::fs::remove_file(&stale) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("removing", stale, e)),
                }
                continue;
            }
            out.push(issue);
        }
        Ok(out)
    }

    /// Resolved issues still kept.
    pub fn resolved(&self) -> Result<Vec<Issue>> {
        self.read_dir(&self.resolved_dir)
    }

    /// One issue by id, active or resolved.
    pub fn get(&self, id: &str) -> Result<Option<Issue>> {
        check_id(id)?;
        // The resolved copy first: it is the later state of an interrupted move.
        for dir in [&self.resolved_dir, &self.active_dir] {
            let p = dir.join(format!("{id}.json"));
            if p.exists() {
                return read_issue(&p).map(Some);
            }
        }
        Ok(None)
    }

    fn next_id(&self, taken_max: u64) -> Result<String> {
        let prefix = domain_prefix(&self.domain);
        let path = self.sequence_path();
        let mut seq: Map<String, Value> = match fsutil::read_optional(&path)? {
            Some(text) => match parse_json(&path, &text)? {
                Value::Object(m) => m,
                _ => Map::new(),
            },
            None => Map::new(),
        };
        let last = seq
            .get(&prefix)
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .max(taken_max);
        let next = last + 1;
        seq.insert(prefix.clone(), Value::from(next));
        fsutil::write_atomic(
            &path,
            (serde_json::to_string_pretty(&Value::Object(seq)).unwrap() + "\n").as_bytes(),
        )?;
        Ok(format!("{prefix}-{next:03}"))
    }

    fn write(&self, issue: &Issue) -> Result<()> {
        let dir = if issue.status == IssueStatus::Resolved {
            &self.resolved_dir
        } else {
            &self.active_dir
        };
        let text = serde_json::to_string_pretty(issue).expect("issues serialise") + "\n";
        fsutil::write_atomic(&dir.join(format!("{}.json", issue.id)), text.as_bytes())
    }

    fn max_number(&self) -> Result<u64> {
        let prefix = domain_prefix(&self.domain);
        let mut max = 0;
        for dir in [&self.active_dir, &self.resolved_dir] {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if let Some(n) = name
                        .strip_suffix(".json")
                        .and_then(|s| s.strip_prefix(&format!("{prefix}-")))
                        .and_then(|n| n.parse::<u64>().ok())
                    {
                        max = max.max(n);
                    }
                }
            }
        }
        Ok(max)
    }

    /// Open or update an issue per detection; resolve the `source` issues of `environment`
    /// whose resource was judged (`judged`) and whose check is no longer detected.
    pub fn sync(
        &self,
        environment: &str,
        source: &str,
        detections: &[Detection],
        evaluated: &Evaluated,
        now: DateTime<Utc>,
    ) -> Result<SyncOutcome> {
        let _lock = self.lock()?;
        let stamp = clock::rfc3339(now);
        let mut outcome = SyncOutcome::default();
        let mut active = self.active()?;
        let mut max = self.max_number()?;
        for d in detections {
            let fp = d.fingerprint();
            match active
                .iter_mut()
                .find(|i| i.fingerprint == fp && i.status != IssueStatus::Resolved)
            {
                Some(issue) => {
                    issue.last_seen_at = Some(stamp.clone());
                    issue.occurrences += 1;
                    if issue.severity != d.severity {
                        issue.history.push(HistoryEntry {
                            at: stamp.clone(),
                            event: "severity_changed".into(),
                            detail: Some(format!(
                                "{} → {}: {}",
                                issue.severity.as_str(),
                                d.severity.as_str(),
                                d.description
                            )),
                        });
                        issue.severity = d.severity;
                    }
                    issue.title = d.title.clone();
                    issue.description = d.description.clone();
                    issue.slo_breach = d.slo_breach;
                    issue.metrics = d.metrics.clone();
                    self.write(issue)?;
                    outcome.issues.push((fp, issue.id.clone(), false));
                }
                None => {
                    let id = self.next_id(max)?;
                    max = id
                        .rsplit('-')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(max);
                    let issue = Issue {
                        id: id.clone(),
                        domain: self.domain.clone(),
                        severity: d.severity,
                        title: d.title.clone(),
                        description: d.description.clone(),
                        slo_breach: d.slo_breach,
                        detected_at: stamp.clone(),
                        environment: d.environment.clone(),
                        affected_resources: vec![d.resource.clone()],
                        metrics: d.metrics.clone(),
                        work_item_id: None,
                        status: IssueStatus::Active,
                        fingerprint: fp.clone(),
                        last_seen_at: Some(stamp.clone()),
                        occurrences: 1,
                        resolved_at: None,
                        escalated_at: None,
                        source: source.to_string(),
                        history: vec![HistoryEntry {
                            at: stamp.clone(),
                            event: "opened".into(),
                            detail: Some(d.description.clone()),
                        }],
                        extra: d
                            .account
                            .as_ref()
                            .map(|a| {
                                Map::from_iter([("account".to_string(), Value::from(a.clone()))])
                            })
                            .unwrap_or_default(),
                    };
                    self.write(&issue)?;
                    active.push(issue);
                    outcome.issues.push((fp, id, true));
                }
            }
        }
        let detected: Vec<String> = detections.iter().map(Detection::fingerprint).collect();
        for issue in active.iter_mut() {
            let still = detected.contains(&issue.fingerprint);
            // Resolved only on evidence: this very check ran on this resource now and passed.
            let passed_now = fingerprint_parts(&issue.fingerprint).is_some_and(|(r, c)| {
                evaluated.covers(r, c) && same_source(&issue.source, source, c)
            });
            if issue.environment == environment
                && passed_now
                && !still
                && issue.status != IssueStatus::Resolved
            {
                issue.status = IssueStatus::Resolved;
                issue.resolved_at = Some(stamp.clone());
                issue.history.push(HistoryEntry {
                    at: stamp.clone(),
                    event: "resolved".into(),
                    detail: Some("the check passes again".into()),
                });
                self.move_to_resolved(issue)?;
                outcome.resolved.push(issue.id.clone());
            }
        }
        self.purge(now)?;
        Ok(outcome)
    }

    fn move_to_resolved(&self, issue: &Issue) -> Result<()> {
        self.write(issue)?;
        let old = self.active_dir.join(format!("{}.json", issue.id));
        match std::fs::remove_file(&old) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("removing", old, e)),
        }
    }

    /// Resolve an issue by hand.
    pub fn resolve(
        &self,
        id: &str,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Issue>> {
        check_id(id)?;
        let _lock = self.lock()?;
        let path = self.active_dir.join(format!("{id}.json"));
        if !path.exists() {
            return Ok(None);
        }
        let mut issue = read_issue(&path)?;
        let stamp = clock::rfc3339(now);
        issue.status = IssueStatus::Resolved;
        issue.resolved_at = Some(stamp.clone());
        issue.history.push(HistoryEntry {
            at: stamp,
            event: "resolved".into(),
            detail: Some(note.unwrap_or("resolved by hand").to_string()),
        });
        self.move_to_resolved(&issue)?;
        self.purge(now)?;
        Ok(Some(issue))
    }

    /// Remove resolved issues older than the retention.
    fn purge(&self, now: DateTime<Utc>) -> Result<()> {
        let cutoff = now - Duration::days(self.retention_days);
        for issue in self.resolved()? {
            let when = issue.resolved_at.as_deref().and_then(clock::parse_rfc3339);
            if when.is_some_and(|t| t < cutoff) {
                let p = self.resolved_dir.join(format!("{}.json", issue.id));
                std::fs::remove_file(&p).map_err(|e| Error::io("purging", p, e))?;
            }
        }
        Ok(())
    }

    /// Change an active issue under the registry's lock; returns it as written.
    pub fn update_active(
        &self,
        id: &str,
        change: impl FnOnce(&mut Issue),
    ) -> Result<Option<Issue>> {
        self.update_in(&self.active_dir, id, change)
    }

    fn update_in(
        &self,
        dir: &Path,
        id: &str,
        change: impl FnOnce(&mut Issue),
    ) -> Result<Option<Issue>> {
        check_id(id)?;
        let _lock = self.lock()?;
        let path = dir.join(format!("{id}.json"));
        if !path.exists() {
            return Ok(None);
        }
        let mut issue = read_issue(&path)?;
        change(&mut issue);
        self.write(&issue)?;
        Ok(Some(issue))
    }

    /// Change a resolved issue under the registry's lock; returns it as written.
    pub fn update_resolved(
        &self,
        id: &str,
        change: impl FnOnce(&mut Issue),
    ) -> Result<Option<Issue>> {
        self.update_in(&self.resolved_dir, id, change)
    }

    /// Append a history entry to an issue (active or resolved).
    pub fn add_history(
        &self,
        id: &str,
        event: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        check_id(id)?;
        let _lock = self.lock()?;
        for dir in [&self.active_dir, &self.resolved_dir] {
            let p = dir.join(format!("{id}.json"));
            if p.exists() {
                let mut issue = read_issue(&p)?;
                issue.history.push(HistoryEntry {
                    at: clock::rfc3339(now),
                    event: event.into(),
                    detail: Some(detail.into()),
                });
                self.write(&issue)?;
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn read_issue(path: &Path) -> Result<Issue> {
    let text = fsutil::read_optional(path)?
        .ok_or_else(|| Error::invalid(path, None, None, "vanished while being read"))?;
    let mut value = parse_json(path, &text)?;
    let plugin_shape = value
        .get("issue_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(issue_id) = &plugin_shape {
        normalize_plugin_issue(&mut value, issue_id);
    }
    let mut issue: Issue = from_value(path, &text, value)?;
    if let Some(issue_id) = plugin_shape {
        // Written back as it came, beside our `id`, for the plugins that read it.
        issue.extra.insert("issue_id".into(), Value::from(issue_id));
    }
    Ok(issue)
}

/// The plugins' other documented issue shape (SPEC-00007: `issue_id`, lower-case
/// `severity`, `detection.detected_at`, `resource.{name, type, arn}`, `issue.{title,
/// description}`, `impact.{slo_breach, slo_metric}`) mapped onto ours; every field stays.
fn normalize_plugin_issue(v: &mut Value, issue_id: &str) {
    let Some(o) = v.as_object_mut() else { return };
    o.remove("issue_id");
    let get = |o: &Map<String, Value>, path: &[&str]| -> Option<Value> {
        let mut cur = o.get(path[0])?;
        for p in &path[1..] {
            cur = cur.get(p)?;
        }
        Some(cur.clone())
    };
    let set_default = |o: &mut Map<String, Value>, key: &str, val: Option<Value>| {
        if !o.contains_key(key)
            && let Some(v) = val
        {
            o.insert(key.to_string(), v);
        }
    };
    o.entry("id").or_insert_with(|| Value::from(issue_id));
    let title = get(o, &["issue", "title"]);
    set_default(o, "title", title);
    let description = get(o, &["issue", "description"]);
    set_default(o, "description", description);
    let detected = get(o, &["detection", "detected_at"]);
    set_default(o, "detected_at", detected);
    let breach = get(o, &["impact", "slo_breach"]);
    set_default(o, "slo_breach", breach);
    let resource = get(o, &["resource", "name"]);
    if let Some(r) = &resource {
        set_default(o, "affected_resources", Some(Value::Array(vec![r.clone()])));
    }
    let source = get(o, &["detection", "detected_by"]);
    set_default(o, "source", source);
    let env = o
        .get("environment")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let check = get(o, &["impact", "slo_metric"])
        .and_then(|c| c.as_str().map(str::to_string))
        .unwrap_or_else(|| "issue".into());
    if let Some(r) = resource.and_then(|r| r.as_str().map(str::to_string)) {
        set_default(
            o,
            "fingerprint",
            Some(Value::from(fingerprint(&env, &r, &check))),
        );
    }
    set_default(o, "title", Some(Value::from(issue_id)));
}

/// Priority score (FORMATS.md): severity weight × domain weight + 2 × slo_breach + hours
/// since `detected_at`.
pub fn priority_score(issue: &Issue, domain_weight: f64, now: DateTime<Utc>) -> f64 {
    issue.severity.weight() * domain_weight
        + if issue.slo_breach { 2.0 } else { 0.0 }
        + age_hours(issue, now)
}

/// Hours since `detected_at` (0 when unreadable or in the future).
pub fn age_hours(issue: &Issue, now: DateTime<Utc>) -> f64 {
    clock::parse_rfc3339(&issue.detected_at)
        .map(|t| ((now - t).num_seconds() as f64 / 3600.0).max(0.0))
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> IssueStore {
        IssueStore::new(
            dir,
            "helm/issues/active/",
            "helm/issues/resolved/",
            "infrastructure",
            90,
        )
    }

    #[test]
    fn evidence_within_one_account_says_nothing_of_another_account_or_the_home_one() {
        let a = "111111111111";
        let mut e = Evaluated::new();
        e.add_everywhere("iam.admin_wildcard");
        e.add_in_region("us-east-1", "sg.");
        e.add("fn-1", "lambda.public");
        let e = e.within_account(Some(a));
        let policy = "arn:aws:iam::111111111111:policy/p";
        assert!(e.covers(&with_account(Some(a), policy), "iam.admin_wildcard"));
        assert!(!e.covers(
            &with_account(Some("222222222222"), policy),
            "iam.admin_wildcard"
        ));
        assert!(!e.covers(policy, "iam.admin_wildcard"));
        assert!(e.covers("111111111111:sg-1 (us-east-1)", "sg.open_ssh"));
        assert!(!e.covers("111111111111:sg-1 (eu-west-1)", "sg.open_ssh"));
        assert!(!e.covers("222222222222:sg-1 (us-east-1)", "sg.open_ssh"));
        assert!(e.covers("111111111111:fn-1", "lambda.public"));
        assert!(!e.covers("fn-1", "lambda.public"));
        assert!(!e.covers("111111111111:fn-2", "lambda.public"));

        let mut home = Evaluated::new();
        home.add_everywhere("sg.");
        home.exclude("sg-8 (us-east-1)", "sg.open_ssh");
        let home = home.within_account(None);
        assert!(home.covers("sg-9 (us-east-1)", "sg.open_ssh"));
        assert!(!home.covers("sg-8 (us-east-1)", "sg.open_ssh"));
        assert!(!home.covers("111111111111:sg-9 (us-east-1)", "sg.open_ssh"));

        // What failed in one account is not a pass of the scope there.
        assert_eq!(
            e.passing(&[("111111111111:fn-1".into(), "lambda.public".into())]),
            2
        );
        assert_eq!(split_account("111111111111:sg-1"), (Some(a), "sg-1"));
        assert_eq!(split_account("arn:aws:s3:::b"), (None, "arn:aws:s3:::b"));
        assert_eq!(with_account(Some(a), "111111111111:x"), "111111111111:x");
    }

    fn det(resource: &str, check: &str, severity: Severity) -> Detection {
        Detection {
            account: None,
            environment: "test".into(),
            resource: resource.into(),
            check: check.into(),
            severity,
            title: format!("{resource} {check}"),
            description: "d".into(),
            slo_breach: severity == Severity::Critical,
            metrics: Value::Null,
        }
    }

    fn t(s: &str) -> DateTime<Utc> {
        clock::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn ids_are_validated_before_any_file_is_read() {
        for good in ["infra-001", "app-7"] {
            assert!(valid_id(good));
        }
        for bad in [
            "../etc/passwd",
            "infra-",
            "-001",
            "INFRA-001",
            "infra-00a",
            "infra_001",
            "infra-001/../x",
            "",
        ] {
            assert!(!valid_id(bad), "{bad}");
            assert!(check_id(bad).is_err());
        }
    }

    fn ev(pairs: &[(&str, &str)]) -> Evaluated {
        let mut e = Evaluated::new();
        for (r, c) in pairs {
            e.add(r, c);
        }
        e
    }

    #[test]
    fn an_issue_resolves_only_when_its_own_check_was_evaluated_and_passed() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.sync(
            "test",
            "health",
            &[det("api", "error_rate", Severity::High)],
            &ev(&[("api", "error_rate")]),
            t("2025-11-03T20:00:00Z"),
        )
        .unwrap();
        // The resource was judged (its status read) but its error rate was not (no traffic).
        let out = s
            .sync(
                "test",
                "health",
                &[],
                &ev(&[("api", "status"), ("other", "error_rate")]),
                t("2025-11-03T20:05:00Z"),
            )
            .unwrap();
        assert!(out.resolved.is_empty(), "no evidence, no resolution");
        let out = s
            .sync(
                "test",
                "health",
                &[],
                &ev(&[("api", "error_rate")]),
                t("2025-11-03T20:10:00Z"),
            )
            .unwrap();
        assert_eq!(out.resolved, ["infra-001"]);
    }

    #[test]
    fn each_audit_type_resolves_only_its_own_issues() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.sync(
            "test",
            "audit:security",
            &[det("sg-1", "sg.open_admin_port", Severity::Critical)],
            &Evaluated::new(),
            t("2025-11-03T20:00:00Z"),
        )
        .unwrap();
        let mut cost = Evaluated::new();
        cost.add_everywhere("cost.");
        cost.add_everywhere("sg.");
        let out = s
            .sync("test", "audit:cost", &[], &cost, t("2025-11-03T20:05:00Z"))
            .unwrap();
        assert!(
            out.resolved.is_empty(),
            "a cost audit never resolves a security issue"
        );
        let mut sec = Evaluated::new();
        sec.add_everywhere("sg.");
        let out = s
            .sync(
                "test",
                "audit:security",
                &[],
                &sec,
                t("2025-11-03T20:10:00Z"),
            )
            .unwrap();
        assert_eq!(out.resolved, ["infra-001"], "the SG was closed again");
        assert!(same_source("audit", "audit:security", "sg.open_admin_port"));
        assert!(!same_source("audit", "audit:cost", "sg.open_admin_port"));
        assert!(same_source("audit", "audit:compliance", "cis.root_mfa"));
    }

    #[test]
    fn an_interrupted_move_to_resolved_heals_on_the_next_read() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.sync(
            "test",
            "health",
            &[det("api", "error_rate", Severity::High)],
            &Evaluated::new(),
            t("2025-11-03T20:00:00Z"),
        )
        .unwrap();
        let active = s.active_dir.join("infra-001.json");
        let kept = std::fs::read_to_string(&active).unwrap();
        s.resolve("infra-001", None, t("2025-11-03T20:05:00Z"))
            .unwrap()
            .unwrap();
        // The crash: resolved/ written, active/ not yet removed.
        std::fs::write(&active, kept).unwrap();
        assert!(s.active().unwrap().is_empty());
        assert!(!active.exists(), "the stale active copy is removed");
        assert_eq!(
            s.get("infra-001").unwrap().unwrap().status,
            IssueStatus::Resolved
        );
    }

    #[test]
    fn open_update_resolve_across_three_runs() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let judged = ev(&[("api", "error_rate")]);
        let first = s
            .sync(
                "test",
                "health",
                &[det("api", "error_rate", Severity::High)],
                &judged,
                t("2025-11-03T20:00:00Z"),
            )
            .unwrap();
        assert_eq!(first.issues[0].1, "infra-001");
        assert!(first.issues[0].2);
        let second = s
            .sync(
                "test",
                "health",
                &[det("api", "error_rate", Severity::Critical)],
                &judged,
                t("2025-11-03T20:05:00Z"),
            )
            .unwrap();
        assert_eq!(second.issues[0].1, "infra-001");
        assert!(!second.issues[0].2, "same fingerprint updates");
        let issue = s.get("infra-001").unwrap().unwrap();
        assert_eq!(issue.occurrences, 2);
        assert_eq!(issue.severity, Severity::Critical);
        assert_eq!(issue.last_seen_at.as_deref(), Some("2025-11-03T20:05:00Z"));
        assert_eq!(issue.detected_at, "2025-11-03T20:00:00Z");
        let third = s
            .sync("test", "health", &[], &judged, t("2025-11-03T20:10:00Z"))
            .unwrap();
        assert_eq!(third.resolved, vec!["infra-001"]);
        assert!(s.active().unwrap().is_empty());
        let resolved = s.get("infra-001").unwrap().unwrap();
        assert_eq!(resolved.status, IssueStatus::Resolved);
        assert_eq!(
            resolved.resolved_at.as_deref(),
            Some("2025-11-03T20:10:00Z")
        );
        // A new problem gets a new id, never a reused one.
        let fourth = s
            .sync(
                "test",
                "health",
                &[det("api", "error_rate", Severity::High)],
                &judged,
                t("2025-11-03T20:15:00Z"),
            )
            .unwrap();
        assert_eq!(fourth.issues[0].1, "infra-002");
    }

    #[test]
    fn issues_of_unjudged_resources_and_other_environments_stay_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.sync(
            "test",
            "health",
            &[det("api", "error_rate", Severity::High)],
            &ev(&[("api", "error_rate")]),
            t("2025-11-03T20:00:00Z"),
        )
        .unwrap();
        let out = s
            .sync(
                "test",
                "health",
                &[],
                &Evaluated::new(),
                t("2025-11-03T20:05:00Z"),
            )
            .unwrap();
        assert!(
            out.resolved.is_empty(),
            "an UNKNOWN resource keeps its issues"
        );
        let out = s
            .sync(
                "prod",
                "health",
                &[],
                &ev(&[("api", "error_rate")]),
                t("2025-11-03T20:05:00Z"),
            )
            .unwrap();
        assert!(out.resolved.is_empty());
    }

    #[test]
    fn resolved_issues_older_than_retention_are_purged_on_write() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.sync(
            "test",
            "health",
            &[det("api", "error_rate", Severity::High)],
            &ev(&[("api", "error_rate")]),
            t("2025-01-01T00:00:00Z"),
        )
        .unwrap();
        s.resolve("infra-001", Some("fixed"), t("2025-01-02T00:00:00Z"))
            .unwrap()
            .unwrap();
        assert!(s.get("infra-001").unwrap().is_some());
        s.sync(
            "test",
            "health",
            &[],
            &Evaluated::new(),
            t("2025-03-01T00:00:00Z"),
        )
        .unwrap();
        assert!(s.get("infra-001").unwrap().is_some(), "58 days: kept");
        s.sync(
            "test",
            "health",
            &[],
            &Evaluated::new(),
            t("2025-04-05T00:00:00Z"),
        )
        .unwrap();
        assert!(s.get("infra-001").unwrap().is_none(), "93 days: purged");
        let next = s
            .sync(
                "test",
                "health",
                &[det("db", "status", Severity::High)],
                &Evaluated::new(),
                t("2025-04-05T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(next.issues[0].1, "infra-002", "a purged id is not reused");
    }

    #[test]
    fn priority_follows_the_formula() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.sync(
            "test",
            "health",
            &[det("api", "error_rate", Severity::Critical)],
            &Evaluated::new(),
            t("2025-11-03T20:00:00Z"),
        )
        .unwrap();
        let i = s.get("infra-001").unwrap().unwrap();
        assert_eq!(
            priority_score(&i, 1.0, t("2025-11-03T23:00:00Z")),
            10.0 + 2.0 + 3.0
        );
        assert_eq!(
            priority_score(&i, 0.5, t("2025-11-03T20:00:00Z")),
            5.0 + 2.0
        );
    }

    #[test]
    fn unknown_fields_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.sync(
            "test",
            "health",
            &[det("api", "error_rate", Severity::High)],
            &ev(&[("api", "error_rate")]),
            t("2025-11-03T20:00:00Z"),
        )
        .unwrap();
        let p = s.active_dir.join("infra-001.json");
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        v["x-ticket"] = Value::from("OPS-42");
        std::fs::write(&p, v.to_string()).unwrap();
        s.sync(
            "test",
            "health",
            &[det("api", "error_rate", Severity::High)],
            &ev(&[("api", "error_rate")]),
            t("2025-11-03T20:05:00Z"),
        )
        .unwrap();
        let again: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        assert_eq!(again["x-ticket"], "OPS-42");
    }
}
