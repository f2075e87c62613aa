//! monitoring.toml as typed settings, read once. Every default lives in one place, the
//! template (`template.toml`, which `Monitoring::defaults` parses and every file is laid
//! over), so a call site names a field the compiler checks instead of a dotted key with its
//! own fallback.

use super::Monitoring;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub domain: String,
    pub environments: Vec<String>,
    pub health_check_interval: Duration,
    pub enabled_checks: Vec<String>,
    pub domain_command_timeout: Duration,
    pub remediation: Remediation,
    pub escalation: Escalation,
    pub issues: Issues,
    pub cloudwatch: CloudWatch,
    pub cost: Cost,
    pub slo: Slo,
    pub watch: Watch,
    pub notifications: Notifications,
    pub state: StateSettings,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notifications {
    pub renotify_after: Duration,
    pub retry: crate::notify::Retry,
    pub send_timeout: Duration,
    pub report_base_url: String,
    /// The `[notifications.<name>]` tables, in name order.
    pub channels: Vec<crate::notify::Channel>,
}

impl Settings {
    /// The channels `[escalation]` routes to, and the names it gives that have no table.
    pub fn routes(&self) -> (Vec<crate::notify::plan::Route>, Vec<String>) {
        crate::notify::plan::routes(
            &self.notifications.channels,
            &self.escalation.channels,
            &self.escalation.on_call_schedule,
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub period: crate::slo::budget::Period,
    pub budget_warning_percent: f64,
    pub min_requests: f64,
    /// As written (for 30 days); `rules` scales them to the period.
    pub page: Vec<crate::slo::budget::BurnPair>,
    pub ticket: Vec<crate::slo::budget::BurnPair>,
}

impl Slo {
    /// The alerting rules for a period of `period_secs`, factors scaled to it.
    pub fn rules(&self, period_secs: i64) -> crate::slo::budget::Rules {
        crate::slo::budget::Rules {
            page: self.page.iter().map(|p| p.scaled(period_secs)).collect(),
            ticket: self.ticket.iter().map(|p| p.scaled(period_secs)).collect(),
            min_requests: self.min_requests,
        }
    }
}

/// `[state]`: where shared state lives.
#[derive(Debug, Clone, PartialEq)]
pub struct StateSettings {
    /// None: local files. Some: S3.
    pub s3: Option<S3State>,
    pub lease: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct S3State {
    pub bucket: String,
    pub prefix: String,
    /// None: the project's region.
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    pub extended_outage_cycles: u32,
    /// (k, n): DEGRADED in k of the last n cycles.
    pub repeated_degradation: (u32, u32),
    pub max_remediations_per_cycle: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Remediation {
    pub auto_remediate: Vec<String>,
    pub require_confirmation: Vec<String>,
    pub never_auto: Vec<String>,
    pub cooldown: Duration,
    pub verify_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub channels: Vec<String>,
    pub on_call_schedule: String,
    pub auto_escalate_on: Vec<String>,
    /// None: work items are written as Markdown.
    pub github_repo: Option<String>,
    pub github_api_url: String,
    pub close_on_resolve: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Issues {
    pub active_path: String,
    pub resolved_path: String,
    pub retention_days: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CloudWatch {
    pub log_retention_days: i64,
    pub metric_namespace: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cost {
    pub alert_on_spike_percent: f64,
    pub daily_budget_usd: f64,
    pub monthly_budget_usd: f64,
}

impl Monitoring {
    /// The typed settings. The template holds every key, and a file's value was checked
    /// for its type when it was read, so each lookup here has a value.
    pub fn settings(&self) -> Settings {
        let s = |k: &str| self.str(k).unwrap_or_default().to_string();
        let n = |k: &str| self.number(k).unwrap_or_default();
        let d = |k: &str| self.duration(k).unwrap_or_default();
        let l = |k: &str| self.str_list(k);
        Settings {
            domain: s("helm-cloud.domain"),
            environments: l("helm-cloud.environments"),
            health_check_interval: d("monitoring.health_check_interval"),
            enabled_checks: l("monitoring.enabled_checks"),
            domain_command_timeout: d("monitoring.domain_command_timeout"),
            remediation: Remediation {
                auto_remediate: l("remediation.auto_remediate"),
                require_confirmation: l("remediation.require_confirmation"),
                never_auto: l("remediation.never_auto"),
                cooldown: d("remediation.cooldown"),
                verify_timeout: d("remediation.verify_timeout"),
            },
            escalation: Escalation {
                channels: l("escalation.channels"),
                on_call_schedule: s("escalation.on_call_schedule"),
                auto_escalate_on: l("escalation.auto_escalate_on"),
                github_repo: self
                    .str("escalation.github_repo")
                    .filter(|r| !r.is_empty())
                    .map(str::to_string),
                github_api_url: s("escalation.github_api_url"),
                close_on_resolve: self
                    .values
                    .get("escalation.close_on_resolve")
                    .and_then(|v| v.value.as_bool())
                    .unwrap_or(true),
            },
            issues: Issues {
                active_path: s("issues.active_path"),
                resolved_path: s("issues.resolved_path"),
                retention_days: n("issues.retention_days") as i64,
            },
            cloudwatch: CloudWatch {
                log_retention_days: n("cloudwatch.log_retention_days") as i64,
                metric_namespace: s("cloudwatch.metric_namespace"),
            },
            cost: Cost {
                alert_on_spike_percent: n("cost.alert_on_spike_percent"),
                daily_budget_usd: n("cost.daily_budget_usd"),
                monthly_budget_usd: n("cost.monthly_budget_usd"),
            },
            slo: Slo {
                period: crate::slo::budget::Period::parse(&s("slo.period"))
                    .unwrap_or(crate::slo::budget::Period::Rolling(30 * 86_400)),
                budget_warning_percent: n("slo.budget_warning_percent"),
                min_requests: n("slo.min_requests"),
                page: self.burn_pairs("slo.page"),
                ticket: self.burn_pairs("slo.ticket"),
            },
            watch: Watch {
                extended_outage_cycles: n("watch.extended_outage_cycles") as u32,
                repeated_degradation: super::monitoring::fraction(&s("watch.repeated_degradation"))
                    .unwrap_or((3, 6)),
                max_remediations_per_cycle: n("watch.max_remediations_per_cycle") as u32,
            },
            notifications: Notifications {
                renotify_after: d("notifications.renotify_after"),
                retry: crate::notify::Retry {
                    attempts: (n("notifications.retry_attempts") as u32).max(1),
                    delay: d("notifications.retry_delay"),
                    max_delay: d("notifications.max_retry_delay"),
                },
                send_timeout: d("notifications.send_timeout"),
                report_base_url: s("notifications.report_base_url"),
                channels: self.channels(),
            },
            state: StateSettings {
                s3: (s("state.backend") == "s3").then(|| S3State {
                    bucket: s("state.bucket"),
                    prefix: s("state.prefix"),
                    region: self
                        .str("state.region")
                        .filter(|r| !r.is_empty())
                        .map(str::to_string),
                }),
                lease: d("state.lease"),
            },
        }
    }

    /// The channel tables (checked when read: each has a known type and what it needs).
    fn channels(&self) -> Vec<crate::notify::Channel> {
        let mut names: Vec<&str> = self
            .values
            .keys()
            .filter_map(|k| k.strip_prefix("notifications.")?.split_once('.'))
            .map(|(name, _)| name)
            .collect();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| {
                let get = |k: &str| {
                    self.str(&format!("notifications.{name}.{k}"))
                        .map(str::to_string)
                };
                Some(crate::notify::Channel {
                    name: name.to_string(),
                    kind: crate::notify::ChannelKind::parse(&get("type")?)?,
                    url_env: get("url_env"),
                    routing_key_env: get("routing_key_env"),
                    secret_env: get("secret_env"),
                    min_severity: get("min_severity")
                        .and_then(|s| crate::issues::Severity::parse(&s)),
                    environments: self.str_list(&format!("notifications.{name}.environments")),
                    eu: get("region").as_deref() == Some("eu"),
                })
            })
            .collect()
    }

    /// A list of burn pairs (checked when read).
    fn burn_pairs(&self, key: &str) -> Vec<crate::slo::budget::BurnPair> {
        let secs = |v: &serde_json::Value| {
            v.as_str()
                .and_then(|s| super::duration::parse(s).ok())
                .map_or(0, |d| d.as_secs() as i64)
        };
        self.values
            .get(key)
            .and_then(|s| s.value.as_array())
            .into_iter()
            .flatten()
            .map(|p| crate::slo::budget::BurnPair {
                long: secs(&p["long"]),
                short: secs(&p["short"]),
                burn: p["burn"].as_f64().unwrap_or(f64::INFINITY),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::monitoring::SCHEMA;
    use std::path::Path;

    #[test]
    fn the_defaults_are_the_templates_and_a_file_overrides_them() {
        let d = Monitoring::defaults().settings();
        assert_eq!(d.domain, "infrastructure");
        assert_eq!(d.remediation.cooldown, Duration::from_secs(600));
        assert_eq!(d.remediation.verify_timeout, Duration::from_secs(30));
        assert_eq!(d.domain_command_timeout, Duration::from_secs(30));
        assert_eq!(d.issues.retention_days, 90);
        assert_eq!(d.cost.daily_budget_usd, 100.0);
        assert_eq!(d.escalation.github_repo, None);
        assert_eq!(
            d.slo.period,
            crate::slo::budget::Period::Rolling(30 * 86_400)
        );
        assert_eq!(d.slo.page.len(), 2);
        assert_eq!(
            (d.slo.page[0].long, d.slo.page[0].short, d.slo.page[0].burn),
            (3600, 300, 14.4)
        );
        assert_eq!(d.slo.ticket[1].long, 3 * 86_400);
        assert_eq!(d.slo.min_requests, 100.0);
        assert_eq!(d.watch.repeated_degradation, (3, 6));
        assert_eq!(d.watch.extended_outage_cycles, 3);
        let m = Monitoring::parse(
            Path::new("m.toml"),
            "[remediation]\ncooldown = \"1h\"\n[cost]\ndaily_budget_usd = 7.5\n[escalation]\ngithub_repo = \"acme/ops\"\n",
        )
        .unwrap()
        .settings();
        assert_eq!(m.remediation.cooldown, Duration::from_secs(3600));
        assert_eq!(m.cost.daily_budget_usd, 7.5);
        assert_eq!(m.escalation.github_repo.as_deref(), Some("acme/ops"));
        assert_eq!(
            m.issues.retention_days, 90,
            "untouched keys keep the template's"
        );
    }

    #[test]
    fn every_schema_key_has_a_template_value() {
        // A key without a template value would read as empty or zero here.
        let d = Monitoring::defaults();
        for (section, keys) in SCHEMA {
            for (key, _) in *keys {
                assert!(
                    d.values.contains_key(&format!("{section}.{key}")),
                    "{section}.{key}"
                );
            }
        }
    }
}
