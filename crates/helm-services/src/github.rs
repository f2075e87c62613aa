//! GitHub issues as work items, through the REST API (`GET /repos/{repo}/issues`,
//! `POST /repos/{repo}/issues`, API version 2022-11-28).

use helm_core::CaseError;
use helm_core::ports::{Failure, FailureKind, WorkItem, WorkTracker};
use serde_json::{Value, json};

/// The public API; GitHub Enterprise users name theirs in `GITHUB_API_URL`.
pub const PUBLIC_API: &str = "https://api.github.com";

/// One repository's issues.
pub struct GitHub {
    /// The API base, without a trailing slash.
    api: String,
    /// `owner/name`.
    repo: String,
    token: String,
}

impl GitHub {
    pub fn new(api: &str, repo: &str, token: String) -> GitHub {
        GitHub {
            api: api.trim_end_matches('/').to_string(),
            repo: repo.to_string(),
            token,
        }
    }

    fn failure(
        &self,
        api: &str,
        what: &str,
        e: impl std::fmt::Display,
        status: Option<u16>,
    ) -> CaseError {
        let kind = match status {
            Some(401 | 403) => FailureKind::PermissionDenied,
            Some(404) => FailureKind::NotFound,
            Some(400..=499) => FailureKind::Rejected,
            _ => FailureKind::Unavailable,
        };
        let message = format!("{what} in {} failed: {e}", self.repo);
        Failure {
            kind,
            api: api.into(),
            code: status.map(|s| s.to_string()),
            cause: e.to_string(),
            brief: message.clone(),
            message,
            hint: "check [escalation] github_repo, GITHUB_TOKEN and (GitHub Enterprise) GITHUB_API_URL".into(),
        }
        .into()
    }

    fn request(
        &self,
        req: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
    ) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        req.header("Accept", "application/vnd.github+json")
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header("User-Agent", "helm-cloud")
    }

    /// The same headers on a request with a JSON body (ureq's builders differ by method).
    fn with_body(
        &self,
        req: ureq::RequestBuilder<ureq::typestate::WithBody>,
    ) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        req.header("Accept", "application/vnd.github+json")
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header("User-Agent", "helm-cloud")
            .header("Content-Type", "application/json")
    }

    fn answer(
        &self,
        api: &str,
        what: &str,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, CaseError> {
        let mut resp = r.map_err(|e| {
            let status = match &e {
                ureq::Error::StatusCode(s) => Some(*s),
                _ => None,
            };
            self.failure(api, what, e, status)
        })?;
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| self.failure(api, &format!("reading the answer to {what}"), e, None))?;
        serde_json::from_str(&text)
            .map_err(|e| self.failure(api, &format!("reading the answer to {what}"), e, None))
    }

    fn item(&self, v: &Value) -> WorkItem {
        WorkItem {
            id: format!("{}#{}", self.repo, v["number"]),
            url: v["html_url"].as_str().map(str::to_string),
        }
    }
}

impl WorkTracker for GitHub {
    /// Among the repository's 100 newest issues (open or closed).
    fn find(&self, _key: &str, marker: &str) -> Result<Option<WorkItem>, CaseError> {
        let url = format!(
            "{}/repos/{}/issues?state=all&per_page=100&sort=created&direction=desc",
            self.api, self.repo
        );
        let list = self.answer(
            "github:ListIssues",
            "listing issues",
            self.request(ureq::get(&url)).call(),
        )?;
        Ok(list.as_array().into_iter().flatten().find_map(|i| {
            i["body"]
                .as_str()
                .is_some_and(|b| b.contains(marker))
                .then(|| self.item(i))
        }))
    }

    fn create(
        &self,
        _key: &str,
        title: &str,
        body: &str,
        labels: &[String],
    ) -> Result<WorkItem, CaseError> {
        let url = format!("{}/repos/{}/issues", self.api, self.repo);
        let payload = json!({"title": title, "body": body, "labels": labels});
        let req = self.with_body(ureq::post(&url));
        let v = self.answer(
            "github:CreateIssue",
            "creating the GitHub issue",
            req.send(payload.to_string()),
        )?;
        Ok(self.item(&v))
    }

    /// A comment (`POST /repos/{repo}/issues/{n}/comments`), then the issue closed as
    /// completed (`PATCH /repos/{repo}/issues/{n}`).
    fn close(&self, _key: &str, item_id: &str, comment: &str) -> Result<(), CaseError> {
        let Some((repo, number)) = item_id
            .rsplit_once('#')
            .filter(|(r, n)| *r == self.repo && n.parse::<u64>().is_ok())
        else {
            return Err(self.failure(
                "github:UpdateIssue",
                &format!("closing {item_id}"),
                "not an issue of this repository",
                Some(404),
            ));
        };
        let base = format!("{}/repos/{repo}/issues/{number}", self.api);
        let with = |r| self.with_body(r);
        self.answer(
            "github:CreateIssueComment",
            &format!("commenting on {item_id}"),
            with(ureq::post(&format!("{base}/comments")))
                .send(json!({"body": comment}).to_string()),
        )?;
        self.answer(
            "github:UpdateIssue",
            &format!("closing {item_id}"),
            with(ureq::patch(&base))
                .send(json!({"state": "closed", "state_reason": "completed"}).to_string()),
        )?;
        Ok(())
    }
}
