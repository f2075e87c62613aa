//! Audit suppressions (`.fractary/plugins/helm-cloud/config/audit-suppressions.toml`): a
//! finding a team has accepted, for a reason, until a date. A suppressed finding is listed
//! in the report as suppressed, never dropped; it neither fails the audit nor opens or
//! resolves an issue. An expired suppression stops suppressing and is said.
//!
//! ```toml
//! [[suppress]]
//! check = "sg.open_admin_port"      # a check id, or a glob (`sg.*`)
//! resource = "sg-*bastion*"         # a glob over the finding's resource (default `*`)
//! reason = "the bastion; reviewed by security 2026-11-30"
//! expires = "2027-03-01"            # optional; from this day on it no longer applies
//! ```

use super::Finding;
use crate::{Error, Result};
use chrono::NaiveDate;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One suppression, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub check: String,
    pub resource: String,
    pub reason: String,
    pub expires: Option<NaiveDate>,
    /// Its line in the file.
    pub line: usize,
}

/// The suppressions of a project (none when the file does not exist).
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub path: PathBuf,
    pub rules: Vec<Suppression>,
}

/// A finding a suppression holds back, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

const KEYS: [&str; 4] = ["check", "resource", "reason", "expires"];

fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

impl Suppression {
    fn matches(&self, f: &Finding) -> bool {
        glob(&self.check, &f.check) && glob(&self.resource, &f.resource)
    }

    fn in_force(&self, today: NaiveDate) -> bool {
        self.expires.is_none_or(|e| today < e)
    }
}

impl Suppressions {
    /// Read `path`; a missing file is no suppression. Any mistake is an error naming the
    /// file and line (exit 65), never a suppression silently ignored.
    pub fn load(path: &Path) -> Result<Suppressions> {
        let text = match std::fs::read(path) {
            Ok(b) => String::from_utf8(b)
                .map_err(|_| Error::invalid(path, None, None, "not UTF-8 text".to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Suppressions {
                    path: path.to_path_buf(),
                    rules: Vec::new(),
                });
            }
            Err(e) => return Err(Error::io("reading", path, e)),
        };
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Suppressions> {
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            Error::invalid(path, line, None, format!("invalid TOML: {}", e.message()))
        })?;
        let mut rules = Vec::new();
        for (key, item) in doc.as_table().iter() {
            let kline = doc
                .as_table()
                .key(key)
                .and_then(|k| k.span())
                .map_or(1, |s| line_of(text, s.start));
            if key != "suppress" {
                return Err(Error::invalid(
                    path,
                    Some(kline),
                    Some(key.to_string()),
                    "unknown key: write [[suppress]] tables with check, resource, reason, expires",
                ));
            }
            let Some(tables) = item.as_array_of_tables() else {
                return Err(Error::invalid(
                    path,
                    Some(kline),
                    Some("suppress".into()),
                    "write each suppression as a [[suppress]] table",
                ));
            };
            for t in tables.iter() {
                let line = t.span().map_or(kline, |s| line_of(text, s.start));
                for (k, _) in t.iter() {
                    if !KEYS.contains(&k) {
                        return Err(Error::invalid(
                            path,
                            Some(line),
                            Some(format!("suppress.{k}")),
                            format!("unknown key {k:?} (check, resource, reason, expires)"),
                        ));
                    }
                }
                let get = |k: &str| -> Result<Option<String>> {
                    match t.get(k) {
                        None => Ok(None),
                        Some(v) => match v.as_str() {
                            Some(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                            _ => Err(Error::invalid(
                                path,
                                Some(line),
                                Some(format!("suppress.{k}")),
                                format!("{k} must be a non-empty string"),
                            )),
                        },
                    }
                };
                let required = |k: &str, why: &str| -> Result<String> {
                    get(k)?.ok_or_else(|| {
                        Error::invalid(
                            path,
                            Some(line),
                            Some(format!("suppress.{k}")),
                            why.to_string(),
                        )
                    })
                };
                let check = required("check", "a suppression names the check it holds back")?;
                let reason = required(
                    "reason",
                    "a suppression says why (the report shows it beside the finding)",
                )?;
                let resource = get("resource")?.unwrap_or_else(|| "*".into());
                let expires = match get("expires")? {
                    None => None,
                    Some(d) => Some(NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
                        Error::invalid(
                            path,
                            Some(line),
                            Some("suppress.expires".into()),
                            format!("expires {d:?} is not a date (write 2027-03-01)"),
                        )
                    })?),
                };
                rules.push(Suppression {
                    check,
                    resource,
                    reason,
                    expires,
                    line,
                });
            }
        }
        Ok(Suppressions {
            path: path.to_path_buf(),
            rules,
        })
    }

    /// The findings that stand, those held back, and a warning per expired suppression
    /// that would have held one back.
    pub fn apply(
        &self,
        findings: Vec<Finding>,
        today: NaiveDate,
    ) -> (Vec<Finding>, Vec<Suppressed>, Vec<String>) {
        let mut kept = Vec::new();
        let mut held = Vec::new();
        let mut warnings = Vec::new();
        for f in findings {
            let rules: Vec<&Suppression> = self.rules.iter().filter(|r| r.matches(&f)).collect();
            match rules.iter().find(|r| r.in_force(today)) {
                Some(r) => held.push(Suppressed {
                    finding: f,
                    reason: r.reason.clone(),
                    expires: r.expires.map(|e| e.to_string()),
                }),
                None => {
                    for r in rules {
                        warnings.push(format!(
                            "{}:{}: the suppression of {} on {} expired on {}; the finding counts again",
                            self.path.display(),
                            r.line,
                            f.check,
                            f.resource,
                            r.expires.map(|e| e.to_string()).unwrap_or_default()
                        ));
                    }
                    kept.push(f);
                }
            }
        }
        (kept, held, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auditor::Severity;

    fn finding(check: &str, resource: &str) -> Finding {
        Finding {
            check: check.into(),
            title: "t".into(),
            resource: resource.into(),
            severity: Severity::High,
            detail: "d".into(),
            recommendation: "r".into(),
            monthly_savings_usd: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const FILE: &str = r#"
[[suppress]]
check = "sg.open_admin_port"
resource = "sg-*bastion*"
reason = "the bastion"
expires = "2027-03-01"

[[suppress]]
check = "iam.*"
reason = "break-glass role"
"#;

    #[test]
    fn a_suppression_holds_back_what_it_names_until_it_expires() {
        let s = Suppressions::parse(Path::new("s.toml"), FILE).unwrap();
        assert_eq!(s.rules.len(), 2);
        assert_eq!(s.rules[0].line, 2);
        let findings = vec![
            finding("sg.open_admin_port", "sg-1 (prod-bastion-ssh)"),
            finding("sg.open_admin_port", "sg-2 (web)"),
            finding("iam.admin_wildcard", "ops-admin"),
        ];
        let (kept, held, warnings) = s.apply(findings.clone(), day("2026-12-01"));
        assert_eq!(kept, vec![findings[1].clone()]);
        assert_eq!(held.len(), 2);
        assert_eq!(held[0].reason, "the bastion");
        assert_eq!(held[0].expires.as_deref(), Some("2027-03-01"));
        assert!(warnings.is_empty());
        // The day it expires, the finding counts again and the expiry is said.
        let (kept, held, warnings) = s.apply(findings.clone(), day("2027-03-01"));
        assert_eq!(kept.len(), 2);
        assert_eq!(held.len(), 1);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("s.toml:2") && warnings[0].contains("expired on 2027-03-01"));
    }

    #[test]
    fn every_mistake_names_the_file_and_line() {
        for (text, says) in [
            ("[[suppress]]\ncheck = \"x\"\n", "says why"),
            ("[[suppress]]\nreason = \"r\"\n", "names the check"),
            (
                "[[suppress]]\ncheck = \"x\"\nreason = \"r\"\nexpires = \"soon\"\n",
                "not a date",
            ),
            (
                "[[suppress]]\ncheck = \"x\"\nreason = \"r\"\nuntil = \"2027-01-01\"\n",
                "unknown key",
            ),
            ("[suppress]\ncheck = \"x\"\n", "[[suppress]] table"),
            ("mute = true\n", "unknown key"),
            ("[[suppress]\n", "invalid TOML"),
            (
                "[[suppress]]\ncheck = 3\nreason = \"r\"\n",
                "non-empty string",
            ),
        ] {
            let e = Suppressions::parse(Path::new("s.toml"), text).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains("s.toml") && msg.contains(says),
                "{text:?}: {msg}"
            );
        }
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(glob("sg-*", "sg-123"));
        assert!(glob("*bastion*", "sg-1 (bastion)"));
        assert!(glob("a*b*c", "a-x-b-y-c"));
        assert!(!glob("a*b*c", "a-x-c"));
        assert!(!glob("sg.open", "sg.open_admin_port"));
        assert!(glob("*", ""));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn no_file_is_no_suppression() {
        let dir = tempfile::tempdir().unwrap();
        let s = Suppressions::load(&dir.path().join("none.toml")).unwrap();
        assert!(s.rules.is_empty());
    }
}
