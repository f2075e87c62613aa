//! The investigator (the plugin's `ops-investigator`): from log events of a window to
//! patterns, a timeline and a root cause with evidence. Pure: events, deployments and
//! metric spikes come in as data; the report goes out as data.

pub mod filter;
pub mod query;
pub mod redact;
pub mod rules;
pub mod run;
pub mod timephrase;

use crate::clock::rfc3339;
use crate::monitor::trend;
use chrono::{DateTime, TimeZone, Utc};
use helm_patterns::{ClusterId, Level, Miner, parse_line};
use redact::redact;
use rules::Category;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One log event.
#[derive(Debug, Clone)]
pub struct Event {
    pub time_ms: i64,
    pub message: String,
    /// The registry id of the resource it came from.
    pub resource: String,
}

/// Something that happened in the window besides log lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub time: String,
    pub event: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatternReport {
    pub template: String,
    pub count: u64,
    pub error_count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub sample: String,
    pub level: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RootCause {
    pub category: Category,
    pub summary: String,
    /// 0 to 1.
    pub confidence: f64,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub start: String,
    pub end: String,
}

/// The investigation report (FORMATS.md).
#[derive(Debug, Clone, Serialize)]
pub struct InvestigationReport {
    pub query: String,
    pub environment: String,
    pub window: Window,
    pub resources: Vec<String>,
    pub log_groups: Vec<String>,
    pub logs_found: u64,
    pub error_count: u64,
    pub patterns: Vec<PatternReport>,
    pub timeline: Vec<TimelineEntry>,
    pub root_cause: RootCause,
    pub recommendations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<String>,
    pub report_path: String,
}

/// A deployment to put on the timeline.
#[derive(Debug, Clone)]
pub struct DeployMark {
    pub at: DateTime<Utc>,
    pub text: String,
}

fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn hhmm(ms: i64) -> String {
    ms_to_time(ms).format("%H:%M").to_string()
}

#[derive(Default)]
struct CategoryTally {
    count: u64,
    onset: Option<i64>,
    evidence: Vec<(i64, String)>,
}

impl CategoryTally {
    fn add(&mut self, time: i64, line: &str) {
        self.count += 1;
        self.onset = Some(self.onset.map_or(time, |o| o.min(time)));
        if self.evidence.len() < 5 {
            self.evidence.push((time, line.chars().take(400).collect()));
        }
    }
}

/// The streaming part of an investigation: feed every event once, in any order; memory
/// is bounded by templates, minutes of the window and five evidence lines per category.
pub struct Analyzer {
    miner: Miner,
    error_by_cluster: HashMap<ClusterId, (u64, i64)>,
    per_minute: BTreeMap<i64, u64>,
    tallies: HashMap<Category, CategoryTally>,
    cold_starts: CategoryTally,
    oom_reports: CategoryTally,
    pub logs_found: u64,
    pub error_count: u64,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    pub fn new() -> Self {
        Analyzer {
            miner: Miner::new(),
            error_by_cluster: HashMap::new(),
            per_minute: BTreeMap::new(),
            tallies: HashMap::new(),
            cold_starts: CategoryTally::default(),
            oom_reports: CategoryTally::default(),
            logs_found: 0,
            error_count: 0,
        }
    }

    pub fn add(&mut self, e: &Event) {
        self.logs_found += 1;
        let line = parse_line(&e.message);
        let lower = line.message.to_lowercase();
        let is_error =
            line.level.is_some_and(|l| l >= Level::Error) || rules::is_error_text(&lower);
        let id = self.miner.add_with(
            &line.message,
            Some(e.time_ms),
            line.level.or(is_error.then_some(Level::Error)),
        );
        if is_error {
            self.error_count += 1;
            let entry = self.error_by_cluster.entry(id).or_insert((0, e.time_ms));
            entry.0 += 1;
            entry.1 = entry.1.min(e.time_ms);
            *self
                .per_minute
                .entry(e.time_ms.div_euclid(60_000))
                .or_insert(0) += 1;
            let category = rules::categorize(&lower).unwrap_or(Category::Unknown);
            self.tallies
                .entry(category)
                .or_default()
                .add(e.time_ms, &line.message);
        } else if rules::report_line_at_memory_limit(&line.message) {
            self.oom_reports.add(e.time_ms, &line.message);
        } else if lower.contains("init duration") {
            self.cold_starts.add(e.time_ms, &line.message);
        }
    }

    /// Patterns, timeline and root cause. `deploys` and `metric_spikes` are put on the
    /// timeline; `resource_ids` and `kinds` shape the recommendations.
    pub fn finish(
        mut self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        deploys: &[DeployMark],
        metric_spikes: &[TimelineEntry],
        remediate_hint: &dyn Fn(Category) -> Option<String>,
    ) -> Analysis {
        self.miner.consolidate();
        // Error counts per live cluster (clusters folded by the merge pass add up).
        let mut errors: HashMap<ClusterId, (u64, i64)> = HashMap::new();
        for (id, (n, first)) in &self.error_by_cluster {
            let e = errors.entry(self.miner.resolve(*id)).or_insert((0, *first));
            e.0 += n;
            e.1 = e.1.min(*first);
        }
        let mut patterns: Vec<PatternReport> = self
            .miner
            .clusters()
            .map(|c| PatternReport {
                template: redact(&c.template()).into_owned(),
                count: c.count,
                error_count: errors.get(&c.id).map_or(0, |e| e.0),
                first_seen: c.first_seen.map(|t| rfc3339(ms_to_time(t))),
                last_seen: c.last_seen.map(|t| rfc3339(ms_to_time(t))),
                sample: redact(&c.sample).into_owned(),
                level: c.level.map(|l| l.as_str().to_string()),
            })
            .collect();
        // Error patterns first, by count then onset; then the rest by count.
        patterns.sort_by(|a, b| {
            (b.error_count > 0)
                .cmp(&(a.error_count > 0))
                .then(b.error_count.cmp(&a.error_count))
                .then(a.first_seen.cmp(&b.first_seen))
                .then(b.count.cmp(&a.count))
        });

        // Timeline.
        let mut timeline: Vec<(i64, String)> = Vec::new();
        for p in patterns.iter().filter(|p| p.error_count > 0).take(10) {
            let first = errors
                .iter()
                .find(|(id, _)| redact(&self.miner.cluster(**id).template()) == p.template)
                .map(|(_, e)| e.1);
            if let Some(t) = first {
                timeline.push((
                    t,
                    format!(
                        "first error of pattern \"{}\" ({} errors)",
                        p.template, p.error_count
                    ),
                ));
            }
        }
        let start_min = start.timestamp_millis().div_euclid(60_000);
        let end_min = end.timestamp_millis().div_euclid(60_000);
        let minutes: Vec<i64> = (start_min..=end_min).collect();
        let counts: Vec<f64> = minutes
            .iter()
            .map(|m| *self.per_minute.get(m).unwrap_or(&0) as f64)
            .collect();
        let median = trend::median(&counts).unwrap_or(0.0);
        let mut in_spike = false;
        for i in trend::anomalies(&counts)
            .into_iter()
            .chain(std::iter::once(usize::MAX))
        {
            if i == usize::MAX {
                break;
            }
            if counts[i] < 3.0 || counts[i] <= median {
                continue;
            }
            let prev_spiking = i > 0 && counts[i - 1] >= 3.0 && counts[i - 1] > median;
            if !prev_spiking || !in_spike {
                timeline.push((
                    minutes[i] * 60_000,
                    format!("error spike: {} errors/min (median {})", counts[i], median),
                ));
            }
            in_spike = true;
        }
        for d in deploys.iter().filter(|d| d.at >= start && d.at <= end) {
            timeline.push((d.at.timestamp_millis(), d.text.clone()));
        }
        for m in metric_spikes {
            if let Some(t) = crate::clock::parse_rfc3339(&m.time) {
                timeline.push((t.timestamp_millis(), m.event.clone()));
            }
        }
        timeline.sort();
        timeline.dedup();

        // Root cause: the category with the most error-line evidence, earliest onset first.
        let mut tallies: Vec<(Category, CategoryTally)> = self
            .tallies
            .into_iter()
            .filter(|(c, _)| *c != Category::Unknown)
            .collect();
        if self.oom_reports.count > 0 {
            let t = tallies
                .iter_mut()
                .find(|(c, _)| *c == Category::OutOfMemory);
            match t {
                Some((_, t)) => {
                    for (time, line) in self.oom_reports.evidence {
                        t.add(time, &line);
                    }
                }
                None => tallies.push((Category::OutOfMemory, self.oom_reports)),
            }
        }
        tallies.sort_by(|(ca, a), (cb, b)| {
            b.count
                .cmp(&a.count)
                .then(a.onset.cmp(&b.onset))
                .then(ca.cmp(cb))
        });
        let explained_total: u64 = tallies
            .iter()
            .map(|(_, t)| t.count)
            .sum::<u64>()
            .max(self.error_count);
        let (category, tally) = match tallies.into_iter().next() {
            Some(x) => x,
            None if self.error_count == 0 && self.cold_starts.count > 0 => {
                (Category::ColdStart, self.cold_starts)
            }
            None => (Category::Unknown, CategoryTally::default()),
        };
        let share = if explained_total > 0 {
            tally.count as f64 / explained_total as f64
        } else if category == Category::ColdStart {
            0.5
        } else {
            0.0
        };
        let confidence = if category == Category::Unknown {
            0.0
        } else {
            (share * (tally.count as f64 / 3.0).min(1.0)).clamp(0.05, 0.95)
        };
        let confidence = (confidence * 100.0).round() / 100.0;
        let onset = tally.onset;
        let deploy_before = onset.and_then(|o| {
            deploys
                .iter()
                .filter(|d| {
                    d.at.timestamp_millis() <= o && o - d.at.timestamp_millis() <= 30 * 60_000
                })
                .max_by_key(|d| d.at)
        });
        let mut summary = if category == Category::Unknown {
            if self.error_count == 0 {
                format!("no error in {} log lines", self.logs_found)
            } else {
                format!(
                    "{} error lines match no known signature: {}",
                    self.error_count,
                    category.summary()
                )
            }
        } else {
            format!(
                "{} of {} error lines point to {}: {}{}",
                tally.count,
                self.error_count,
                category.as_str(),
                category.summary(),
                onset
                    .map(|o| format!(", since {}", hhmm(o)))
                    .unwrap_or_default()
            )
        };
        if let (Some(d), Some(o)) = (deploy_before, onset) {
            summary.push_str(&format!(
                "; it began {} min after {}",
                (o - d.at.timestamp_millis()) / 60_000,
                d.text
            ));
        }
        let evidence: Vec<String> = tally
            .evidence
            .iter()
            .map(|(t, l)| format!("{} {}", rfc3339(ms_to_time(*t)), redact(l)))
            .collect();

        let mut recommendations = Vec::new();
        let (advice, _) = category.recommendation();
        recommendations.push(advice.to_string());
        if let Some(cmd) = remediate_hint(category) {
            recommendations.push(cmd);
        }
        if let Some(d) = deploy_before {
            recommendations.push(format!(
                "The errors began after {}: consider rolling it back with faber-cloud",
                d.text
            ));
        }
        Analysis {
            logs_found: self.logs_found,
            error_count: self.error_count,
            patterns,
            timeline: timeline
                .into_iter()
                .map(|(t, e)| TimelineEntry {
                    time: rfc3339(ms_to_time(t)),
                    event: redact(&e).into_owned(),
                })
                .collect(),
            root_cause: RootCause {
                category,
                summary: redact(&summary).into_owned(),
                confidence,
                evidence,
            },
            recommendations,
            per_minute: minutes
                .iter()
                .zip(&counts)
                .map(|(m, c)| (m * 60_000, *c))
                .collect(),
        }
    }
}

/// What an analysis found.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub logs_found: u64,
    pub error_count: u64,
    pub patterns: Vec<PatternReport>,
    pub timeline: Vec<TimelineEntry>,
    pub root_cause: RootCause,
    pub recommendations: Vec<String>,
    /// Errors per minute over the window (epoch ms, count).
    pub per_minute: Vec<(i64, f64)>,
}

impl InvestigationReport {
    /// The Markdown a person reads.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "# Investigation: {}\n\n",
            if self.query.is_empty() {
                "(all resources)"
            } else {
                &self.query
            }
        );
        s.push_str(&format!(
            "- Environment: {}\n- Window: {} to {}\n- Resources: {}\n- Log groups: {}\n- Lines read: {}, error lines: {}\n",
            self.environment,
            self.window.start,
            self.window.end,
            self.resources.join(", "),
            self.log_groups.join(", "),
            self.logs_found,
            self.error_count
        ));
        if let Some(id) = &self.issue_id {
            s.push_str(&format!("- Issue: {id}\n"));
        }
        s.push_str(&format!(
            "\n## Root cause: {} (confidence {:.0}%)\n\n{}\n",
            self.root_cause.category.as_str(),
            self.root_cause.confidence * 100.0,
            self.root_cause.summary
        ));
        if !self.root_cause.evidence.is_empty() {
            s.push_str("\nEvidence:\n\n");
            for e in &self.root_cause.evidence {
                s.push_str(&format!("    {e}\n"));
            }
        }
        s.push_str("\n## Timeline\n\n");
        for t in &self.timeline {
            s.push_str(&format!("- {} {}\n", t.time, t.event));
        }
        s.push_str(
            "\n## Patterns\n\n| count | errors | first seen | template |\n|---:|---:|---|---|\n",
        );
        for p in self.patterns.iter().take(20) {
            s.push_str(&format!(
                "| {} | {} | {} | `{}` |\n",
                p.count,
                p.error_count,
                p.first_seen.as_deref().unwrap_or("-"),
                p.template.replace('|', "\\|").replace('`', "'")
            ));
        }
        s.push_str("\n## Recommendations\n\n");
        for r in &self.recommendations {
            s.push_str(&format!("- {r}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        crate::clock::parse_rfc3339(s).unwrap()
    }

    fn ev(at: &str, msg: &str) -> Event {
        Event {
            time_ms: t(at).timestamp_millis(),
            message: msg.into(),
            resource: "api".into(),
        }
    }

    fn run(events: &[Event], deploys: &[DeployMark]) -> Analysis {
        let mut a = Analyzer::new();
        for e in events {
            a.add(e);
        }
        a.finish(
            t("2025-11-03T13:30:00Z"),
            t("2025-11-03T14:30:00Z"),
            deploys,
            &[],
            &|c| (c == Category::DatabaseConnection).then(|| "fix the pool".to_string()),
        )
    }

    #[test]
    fn the_dominant_category_wins_with_evidence_timeline_and_deploy() {
        let mut events = Vec::new();
        for i in 0..20 {
            events.push(ev(
                &format!("2025-11-03T13:{:02}:00Z", 30 + i),
                &format!("INFO handled GET /orders/{i} in 40 ms"),
            ));
        }
        for i in 0..12 {
            events.push(ev(
                &format!("2025-11-03T14:{:02}:10Z", i),
                "[ERROR] OperationalError: FATAL: remaining connection slots are reserved",
            ));
        }
        events.push(ev(
            "2025-11-03T14:05:00Z",
            "[ERROR] Task timed out after 3.00 seconds",
        ));
        let deploy = DeployMark {
            at: t("2025-11-03T13:57:00Z"),
            text: "deploy acme-api 1.4.2".into(),
        };
        let a = run(&events, &[deploy]);
        assert_eq!(a.logs_found, 33);
        assert_eq!(a.error_count, 13);
        assert_eq!(a.root_cause.category, Category::DatabaseConnection);
        assert!(
            a.root_cause.summary.contains("12 of 13 error lines"),
            "{}",
            a.root_cause.summary
        );
        assert!(
            a.root_cause
                .summary
                .contains("3 min after deploy acme-api 1.4.2"),
            "{}",
            a.root_cause.summary
        );
        assert!(a.root_cause.confidence > 0.8);
        assert_eq!(a.root_cause.evidence.len(), 5);
        assert!(a.root_cause.evidence[0].starts_with("2025-11-03T14:00:10Z"));
        assert_eq!(a.patterns[0].error_count, 12);
        assert!(
            a.timeline
                .iter()
                .any(|e| e.event == "deploy acme-api 1.4.2" && e.time == "2025-11-03T13:57:00Z")
        );
        assert!(
            a.timeline
                .iter()
                .any(|e| e.event.starts_with("first error of pattern"))
        );
        assert!(a.recommendations.iter().any(|r| r == "fix the pool"));
        assert!(
            a.recommendations
                .iter()
                .any(|r| r.contains("rolling it back"))
        );
    }

    #[test]
    fn ties_go_to_the_earliest_onset() {
        let events = [
            ev(
                "2025-11-03T14:10:00Z",
                "ERROR ThrottlingException: Rate exceeded",
            ),
            ev(
                "2025-11-03T14:00:00Z",
                "ERROR connect ECONNREFUSED 10.0.0.1:443",
            ),
        ];
        assert_eq!(
            run(&events, &[]).root_cause.category,
            Category::DependencyUnreachable
        );
    }

    #[test]
    fn no_errors_and_unknown_errors() {
        let quiet = run(&[ev("2025-11-03T14:00:00Z", "all fine")], &[]);
        assert_eq!(quiet.root_cause.category, Category::Unknown);
        assert_eq!(quiet.root_cause.confidence, 0.0);
        let odd = run(
            &[ev(
                "2025-11-03T14:00:00Z",
                "ERROR the flux capacitor wobbled",
            )],
            &[],
        );
        assert_eq!(odd.root_cause.category, Category::Unknown);
        assert_eq!(odd.error_count, 1);
    }

    #[test]
    fn memory_limit_report_lines_count_as_out_of_memory() {
        let events = [
            ev(
                "2025-11-03T14:00:00Z",
                "REPORT RequestId: a\tDuration: 5.0 ms\tBilled Duration: 6 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB",
            ),
            ev(
                "2025-11-03T14:00:01Z",
                "RequestId: a Error: Runtime exited with error: signal: killed",
            ),
        ];
        assert_eq!(run(&events, &[]).root_cause.category, Category::OutOfMemory);
    }

    #[test]
    fn secrets_never_reach_the_report() {
        let events = [ev(
            "2025-11-03T14:00:00Z",
            "ERROR AccessDenied for AKIAIOSFODNN7EXAMPLE password=hunter2",
        )];
        let a = run(&events, &[]);
        let all = format!("{:?}", (&a.patterns, &a.root_cause, &a.timeline));
        assert!(
            !all.contains("AKIAIOSFODNN7EXAMPLE") && !all.contains("hunter2"),
            "{all}"
        );
    }
}
