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
    }

    fn now() -> DateTime<Utc> {
        clock::parse_rfc3339("2025-11-03T21:00:00Z").unwrap()
    }

    fn store(dir: &std::path::Path) -> IssueStore {
        let s = IssueStore::new(dir, "a/", "r/", "infrastructure", 90);
        let d = Detection {
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
