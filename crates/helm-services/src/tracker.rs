//! Where work items go: GitHub issues, or Markdown files when no repository is set.

use crate::github::GitHub;
use helm_core::CaseError;
use helm_core::central::escalate::MarkdownTracker;
use helm_core::ports::{WorkItem, WorkTracker};

/// One of the trackers, chosen by the configuration; GitHub keeps the Markdown folder for
/// the work items written before a repository was set.
pub enum Tracker {
    GitHub(GitHub, MarkdownTracker),
    Markdown(MarkdownTracker),
}

impl Tracker {
    fn markdown(&self) -> &MarkdownTracker {
        match self {
            Tracker::GitHub(_, m) | Tracker::Markdown(m) => m,
        }
    }
}

impl WorkTracker for Tracker {
    fn find(&self, key: &str, marker: &str) -> Result<Option<WorkItem>, CaseError> {
        match self {
            Tracker::GitHub(g, _) => g.find(key, marker),
            Tracker::Markdown(m) => m.find(key, marker),
        }
    }

    fn create(
        &self,
        key: &str,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<WorkItem, CaseError> {
        match self {
            Tracker::GitHub(g, _) => g.create(key, title, body, labels),
            Tracker::Markdown(m) => m.create(key, title, body, labels),
        }
    }

    fn close(&self, key: &str, item_id: &str, comment: &str) -> Result<(), CaseError> {
        match self {
            // A Markdown work item from before a repository was configured stays Markdown.
            _ if item_id.starts_with("file:") => self.markdown().close(key, item_id, comment),
            Tracker::GitHub(g, _) => g.close(key, item_id, comment),
            Tracker::Markdown(_) => Err(helm_core::ports::Failure {
                kind: helm_core::ports::FailureKind::Rejected,
                api: "github:UpdateIssue".into(),
                code: None,
                cause: "no GitHub access".into(),
                brief: format!("cannot close {item_id}: GitHub is not configured here"),
                message: format!("cannot close {item_id}: GitHub is not configured here"),
                hint: "set [escalation] github_repo and GITHUB_TOKEN, then run any command again"
                    .into(),
            }
            .into()),
        }
    }
}
