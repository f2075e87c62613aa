//! The `escalate` use case: an issue becomes one work item in a [`WorkTracker`], and the
//! issue records it. Decided under the issue's escalation lock, and idempotent: an issue
//! already escalated, or whose work item exists though its answer was lost (found by the
//! marker in its body), gets no second one.

use super::{DomainMonitors, rank, work_item};
use crate::clock::rfc3339;
use crate::error::CaseError;
use crate::issues::{HistoryEntry, Issue, IssueStatus, IssueStore};
use crate::ports::{WorkItem, WorkTracker};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::path::PathBuf;

/// What `escalate` did.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub issue_id: String,
    pub environment: String,
    pub work_item: WorkItem,
    /// None when the issue was already escalated (nothing was decided again).
    pub priority: Option<String>,
    /// A work item was created now (false: it existed).
    pub created: bool,
    /// The issue already recorded its work item.
    pub already: bool,
}

impl Escalation {
    pub fn to_json(&self) -> Value {
        if self.already {
            return json!({"issue_id": self.issue_id, "environment": self.environment, "work_item_id": self.work_item.id, "work_item_url": self.work_item.url, "created": false});
        }
        json!({"issue_id": self.issue_id, "environment": self.environment, "work_item_id": self.work_item.id, "work_item_url": self.work_item.url, "priority": self.priority, "created": self.created, "escalation_status": "escalated"})
    }
}

/// The marker every work item's body carries, so a retry finds the item it already made.
pub fn marker(issue: &Issue) -> String {
    format!(
        "<!-- helm-cloud issue {} {} -->",
        issue.environment, issue.id
    )
}

/// The priority of a work item: the one asked for, else the issue's severity.
fn priority_of(issue: &Issue, asked: Option<&str>) -> String {
    asked
        .map(str::to_string)
        .unwrap_or_else(|| issue.severity.as_str().to_lowercase())
}

/// Escalate issue `id` to `tracker`.
pub fn escalate<T: WorkTracker>(
    store: &IssueStore,
    monitors: &DomainMonitors,
    tracker: &T,
    id: &str,
    priority: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Escalation, CaseError> {
    crate::issues::check_id(id)?;
    // Decided under the issue's escalation lock: two runs at once make one work item.
    let _lock = store.escalation_lock(id)?;
    let issue = crate::scope::find_issue(store, id)?;
    if let Some(w) = &issue.work_item_id {
        return Ok(Escalation {
            issue_id: issue.id.clone(),
            environment: issue.environment.clone(),
            work_item: WorkItem {
                id: w.clone(),
                url: issue
                    .extra
                    .get("work_item_url")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
            priority: None,
            created: false,
            already: true,
        });
    }
    let ranked = rank(vec![issue.clone()], monitors, now).remove(0);
    let investigation = issue
        .history
        .iter()
        .rev()
        .find(|h| h.event == "investigated")
        .and_then(|h| h.detail.clone());
    let recs = [
        format!(
            "helm-cloud investigate --issue {} --env {}",
            issue.id, issue.environment
        ),
        format!(
            "helm-cloud remediate --issue {} --env {} --dry-run",
            issue.id, issue.environment
        ),
    ];
    let (title, body) = work_item(&ranked, investigation.as_deref(), &recs);
    let marker = marker(&issue);
    let body = format!("{body}\n\n{marker}\n");
    let priority = priority_of(&issue, priority);
    let (item, created) = match tracker.find(&issue.id, &marker)? {
        Some(found) => (found, false),
        None => {
            let mut labels = vec![
                format!("domain:{}", issue.domain),
                format!("severity:{}", issue.severity.as_str().to_lowercase()),
                format!("priority:{priority}"),
            ];
            if issue.slo_breach {
                labels.push("slo-breach".into());
            }
            (tracker.create(&issue.id, &title, &body, &labels)?, true)
        }
    };
    let stamp = rfc3339(now);
    store.update_active(&issue.id, |i| {
        i.status = IssueStatus::Escalated;
        // The plugin's name for it, beside ours.
        i.extra
            .insert("escalation_status".into(), json!("escalated"));
        i.work_item_id = Some(item.id.clone());
        i.escalated_at = Some(stamp.clone());
        if let Some(u) = &item.url {
            i.extra.insert("work_item_url".into(), json!(u));
        }
        i.history.push(HistoryEntry {
            at: stamp.clone(),
            event: "escalated".into(),
            detail: Some(item.id.clone()),
        });
    })?;
    Ok(Escalation {
        issue_id: issue.id,
        environment: issue.environment,
        work_item: item,
        priority: Some(priority),
        created,
        already: false,
    })
}

/// The comment a work item gets when its issue resolves.
pub fn resolution_note(issue: &Issue) -> String {
    let how = issue
        .history
        .iter()
        .rev()
        .find(|h| h.event == "resolved")
        .and_then(|h| h.detail.clone())
        .unwrap_or_else(|| "resolved".into());
    let after = issue
        .resolved_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339)
        .zip(crate::clock::parse_rfc3339(&issue.detected_at))
        .map(|(r, d)| crate::notify::human_span((r - d).num_seconds().max(0)));
    format!(
        "Resolved at {} after {}, by helm-cloud: {how}.\n\nIssue {} ({}, {}): `helm-cloud issues show {}`.",
        issue.resolved_at.as_deref().unwrap_or("?"),
        after.as_deref().unwrap_or("an unknown time"),
        issue.id,
        issue.environment,
        issue.severity.as_str(),
        issue.id
    )
}

/// (issue id, work item) closed, and one line per close that failed.
pub type Closed = (Vec<(String, String)>, Vec<String>);

/// Close the work items of escalated issues that have resolved (`[escalation]
/// close_on_resolve`): each gets [`resolution_note`] and is closed once; the issue records
/// it (`work_item_closed_at`). One that fails is said and tried again on the next pass.
pub fn close_resolved<T: WorkTracker>(
    store: &IssueStore,
    tracker: &T,
    environments: &[String],
    now: DateTime<Utc>,
) -> Result<Closed, CaseError> {
    let mut closed = Vec::new();
    let mut failed = Vec::new();
    for issue in store.resolved()? {
        let Some(item) = issue.work_item_id.clone() else {
            continue;
        };
        if issue.extra.contains_key("work_item_closed_at")
            || !environments.iter().any(|e| e == &issue.environment)
        {
            continue;
        }
        let _lock = store.escalation_lock(&issue.id)?;
        match tracker.close(&issue.id, &item, &resolution_note(&issue)) {
            Ok(()) => {
                let stamp = rfc3339(now);
                store.update_resolved(&issue.id, |i| {
                    i.extra
                        .insert("work_item_closed_at".into(), json!(stamp.clone()));
                    i.history.push(HistoryEntry {
                        at: stamp.clone(),
                        event: "work_item_closed".into(),
                        detail: Some(item.clone()),
                    });
                })?;
                closed.push((issue.id.clone(), item));
            }
            Err(e) => failed.push(format!("closing {item} of {}: {e}", issue.id)),
        }
    }
    Ok((closed, failed))
}

/// Work items as Markdown files, one per issue, when no tracker is configured.
pub struct MarkdownTracker {
    pub dir: PathBuf,
    /// How the user sees a file's path.
    pub shown: Box<dyn Fn(&std::path::Path) -> String>,
}

impl MarkdownTracker {
    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.md"))
    }

    fn item(&self, key: &str) -> WorkItem {
        let shown = (self.shown)(&self.path(key));
        WorkItem {
            id: format!("file:{shown}"),
            url: Some(shown),
        }
    }
}

impl WorkTracker for MarkdownTracker {
    fn find(&self, key: &str, marker: &str) -> Result<Option<WorkItem>, CaseError> {
        let found = std::fs::read_to_string(self.path(key)).is_ok_and(|t| t.contains(marker));
        Ok(found.then(|| self.item(key)))
    }

    fn create(
        &self,
        key: &str,
        title: &str,
        body: &str,
        _labels: &[String],
    ) -> Result<WorkItem, CaseError> {
        crate::fsutil::write_atomic(&self.path(key), format!("# {title}\n\n{body}").as_bytes())?;
        Ok(self.item(key))
    }

    fn close(&self, key: &str, _item_id: &str, comment: &str) -> Result<(), CaseError> {
        let path = self.path(key);
        let text = crate::fsutil::read_optional(&path)?.unwrap_or_default();
        if text.contains("\n## Resolved\n") {
            return Ok(());
        }
        let sep = if text.ends_with('\n') { "" } else { "\n" };
        let out = format!("{text}{sep}\n## Resolved\n\n{comment}\n");
        crate::fsutil::write_atomic(&path, out.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Escalation on a fake tracker that counts what it was asked.
    use super::*;
    use crate::clock;
    use crate::issues::{Detection, Evaluated, Severity};
    use std::sync::Mutex;

    #[derive(Default)]
    struct Tracker {
        existing: Vec<(String, WorkItem)>,
        created: Mutex<Vec<(String, Vec<String>)>>,
        closed: Mutex<Vec<(String, String)>>,
        /// Closing fails this many times first.
        close_failures: Mutex<u32>,
    }

    impl WorkTracker for Tracker {
        fn find(&self, _key: &str, marker: &str) -> Result<Option<WorkItem>, CaseError> {
            Ok(self
                .existing
                .iter()
                .find(|(body, _)| body.contains(marker))
                .map(|(_, w)| w.clone()))
        }
        fn create(
            &self,
            _key: &str,
            _t: &str,
            body: &str,
            labels: &[String],
        ) -> Result<WorkItem, CaseError> {
            let mut c = self.created.lock().unwrap();
            c.push((body.to_string(), labels.to_vec()));
            Ok(WorkItem {
                id: format!("acme/ops#{}", 41 + c.len()),
                url: None,
            })
        }
        fn close(&self, _key: &str, item: &str, comment: &str) -> Result<(), CaseError> {
            let mut f = self.close_failures.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err(crate::ports::Failure::unavailable(
                    "github:UpdateIssue",
                    "HTTP 502",
                    "closing failed".into(),
                    "retry",
                )
                .into());
            }
            self.closed
                .lock()
                .unwrap()
                .push((item.to_string(), comment.to_string()));
            Ok(())
        }
    }

    #[test]
    fn a_resolved_escalated_issue_closes_its_work_item_once_after_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let t = Tracker {
            close_failures: Mutex::new(1),
            ..Default::default()
        };
        escalate(&s, &DomainMonitors::builtin(), &t, "infra-001", None, now()).unwrap();
        let envs = vec!["prod".to_string()];
        // Still open: nothing to close.
        assert!(close_resolved(&s, &t, &envs, now()).unwrap().0.is_empty());
        let later = now() + chrono::Duration::minutes(42);
        s.sync(
            "prod",
            "health",
            &[],
            &{
                let mut e = Evaluated::new();
                e.add("api", "error_rate");
                e
            },
            later,
        )
        .unwrap();
        let (closed, failed) = close_resolved(&s, &t, &envs, later).unwrap();
        assert!(closed.is_empty() && failed.len() == 1, "{failed:?}");
        let (closed, failed) = close_resolved(&s, &t, &envs, later).unwrap();
        assert_eq!(
            closed,
            vec![("infra-001".to_string(), "acme/ops#42".to_string())]
        );
        assert!(failed.is_empty());
        let c = t.closed.lock().unwrap().clone();
        assert_eq!(c.len(), 1);
        assert!(
            c[0].1.contains("after 42 minutes") && c[0].1.contains("the check passes again"),
            "{}",
            c[0].1
        );
        // Recorded: never closed twice.
        assert!(close_resolved(&s, &t, &envs, later).unwrap().0.is_empty());
        let issue = s.get("infra-001").unwrap().unwrap();
        assert!(issue.extra.contains_key("work_item_closed_at"));
        assert_eq!(issue.history.last().unwrap().event, "work_item_closed");
    }

    fn now() -> DateTime<Utc> {
        clock::parse_rfc3339("2025-11-03T21:00:00Z").unwrap()
    }

    fn store(dir: &std::path::Path) -> IssueStore {
        let s = IssueStore::new(dir, "a/", "r/", "infrastructure", 90);
        let d = Detection {
            account: None,
            environment: "prod".into(),
            resource: "api".into(),
            check: "error_rate".into(),
            severity: Severity::Critical,
            title: "api errors".into(),
            description: "d".into(),
            slo_breach: true,
            metrics: Value::Null,
        };
        let mut e = Evaluated::new();
        e.add("api", "error_rate");
        s.sync("prod", "health", &[d], &e, now()).unwrap();
        s
    }

    #[test]
    fn an_issue_becomes_one_work_item_and_a_second_escalation_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let t = Tracker::default();
        let m = DomainMonitors::builtin();
        let done = escalate(&s, &m, &t, "infra-001", None, now()).unwrap();
        assert!(done.created && !done.already);
        assert_eq!(done.work_item.id, "acme/ops#42");
        assert_eq!(done.priority.as_deref(), Some("critical"));
        let created = t.created.lock().unwrap().clone();
        assert_eq!(created.len(), 1);
        assert!(
            created[0]
                .0
                .contains("<!-- helm-cloud issue prod infra-001 -->")
        );
        assert_eq!(
            created[0].1,
            [
                "domain:infrastructure",
                "severity:critical",
                "priority:critical",
                "slo-breach"
            ]
        );
        let issue = s.get("infra-001").unwrap().unwrap();
        assert_eq!(issue.status, IssueStatus::Escalated);
        assert_eq!(issue.work_item_id.as_deref(), Some("acme/ops#42"));

        let again = escalate(&s, &m, &t, "infra-001", Some("low"), now()).unwrap();
        assert!(again.already && !again.created);
        assert_eq!(t.created.lock().unwrap().len(), 1);
        assert_eq!(again.to_json()["created"], false);
    }

    #[test]
    fn a_work_item_whose_answer_was_lost_is_found_by_its_marker_not_made_twice() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let t = Tracker {
            existing: vec![(
                "…\n<!-- helm-cloud issue prod infra-001 -->\n".into(),
                WorkItem {
                    id: "acme/ops#7".into(),
                    url: None,
                },
            )],
            ..Default::default()
        };
        let done = escalate(
            &s,
            &DomainMonitors::builtin(),
            &t,
            "infra-001",
            Some("high"),
            now(),
        )
        .unwrap();
        assert!(!done.created);
        assert_eq!(done.work_item.id, "acme/ops#7");
        assert!(t.created.lock().unwrap().is_empty());
        assert_eq!(
            s.get("infra-001").unwrap().unwrap().work_item_id.as_deref(),
            Some("acme/ops#7")
        );
    }

    #[test]
    fn a_bad_or_unknown_id_is_refused_and_the_markdown_tracker_writes_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let m = DomainMonitors::builtin();
        let t = Tracker::default();
        assert!(matches!(
            escalate(&s, &m, &t, "../x", None, now()),
            Err(CaseError::Domain(_))
        ));
        assert!(matches!(
            escalate(&s, &m, &t, "infra-009", None, now()),
            Err(CaseError::Domain(_))
        ));
        let md = MarkdownTracker {
            dir: dir.path().join("work-items"),
            shown: Box::new(|p| p.file_name().unwrap().to_string_lossy().into_owned()),
        };
        let done = escalate(&s, &m, &md, "infra-001", None, now()).unwrap();
        assert_eq!(done.work_item.id, "file:infra-001.md");
        let text = std::fs::read_to_string(dir.path().join("work-items/infra-001.md")).unwrap();
        assert!(
            text.starts_with("# [CRITICAL][infrastructure/prod] api errors"),
            "{text}"
        );
        // The marker finds it again (the issue file lost its record).
        assert!(
            md.find("infra-001", &marker(&s.get("infra-001").unwrap().unwrap()))
                .unwrap()
                .is_some()
        );
    }
}
