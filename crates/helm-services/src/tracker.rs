//! Where work items go: GitHub issues, or Markdown files when no repository is set.

use crate::github::GitHub;
use helm_core::CaseError;
use helm_core::central::escalate::MarkdownTracker;
use helm_core::ports::{WorkItem, WorkTracker};

/// One of the trackers, chosen by the configuration.
pub enum Tracker {
    GitHub(GitHub),
    Markdown(MarkdownTracker),
}

impl WorkTracker for Tracker {
    fn find(&self, key: &str, marker: &str) -> Result<Option<WorkItem>, CaseError> {
        match self {
            Tracker::GitHub(g) => g.find(key, marker),
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
            Tracker::GitHub(g) => g.create(key, title, body, labels),
            Tracker::Markdown(m) => m.create(key, title, body, labels),
        }
    }
}
