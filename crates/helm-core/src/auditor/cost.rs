//! Cost checks: spikes, the daily budget, the month's pace and forecast (from Cost
//! Explorer's daily costs by service), and waste among the registry's resources (from
//! CloudWatch), each with an estimated monthly saving from a small price table.

use super::{Finding, Severity};
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::BTreeMap;

/// Daily costs: date → service → USD.
pub type Daily = BTreeMap<NaiveDate, BTreeMap<String, f64>>;

/// Budget settings (`[cost]`).
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub spike_percent: f64,
    pub daily_usd: f64,
    pub monthly_usd: f64,
}

fn day_total(d: &Daily, day: NaiveDate) -> f64 {
    d.get(&day).map(|s| s.values().sum()).unwrap_or(0.0)
}

fn days_in_month(day: NaiveDate) -> u32 {
    let first_next = if day.month() == 12 {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
    }
    .expect("a valid date");
    (first_next - Duration::days(1)).day()
}

/// Figures the cost report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct CostFigures {
    pub last_day: NaiveDate,
    pub last_day_usd: f64,
    pub previous_7_day_mean_usd: f64,
    pub month_to_date_usd: f64,
    pub pace_usd: f64,
    pub forecast_usd: f64,
}

/// Findings from daily costs, as of `today` (the last complete day is yesterday).
pub fn budget_findings(
    daily: &Daily,
    month_to_date: f64,
    today: NaiveDate,
    b: Budget,
) -> (Vec<Finding>, CostFigures) {
    let last = today - Duration::days(1);
    let last_cost = day_total(daily, last);
    let prev: Vec<f64> = (1..=7)
        .map(|i| day_total(daily, last - Duration::days(i)))
        .collect();
    let mean = prev.iter().sum::<f64>() / 7.0;
    let mut out = Vec::new();
    if mean > 0.0 && last_cost > mean * (1.0 + b.spike_percent / 100.0) {
        // The services that grew the most against their own 7-day mean.
        let mut growth: Vec<(String, f64)> = daily
            .get(&last)
            .map(|s| {
                s.iter()
                    .map(|(svc, v)| {
                        let m = (1..=7)
                            .map(|i| {
                                daily
                                    .get(&(last - Duration::days(i)))
                                    .and_then(|x| x.get(svc))
                                    .copied()
                                    .unwrap_or(0.0)
                            })
                            .sum::<f64>()
                            / 7.0;
                        (svc.clone(), v - m)
                    })
                    .filter(|(_, g)| *g > 0.0)
                    .collect()
            })
            .unwrap_or_default();
        growth.sort_by(|a, b| b.1.total_cmp(&a.1));
        let grew: Vec<String> = growth
            .iter()
            .take(3)
            .map(|(s, g)| format!("{s} +${g:.2}"))
            .collect();
        out.push(Finding {
            check: "cost.spike".into(),
            title: "Daily cost spike".into(),
            resource: "account".into(),
            severity: Severity::High,
            detail: format!(
                "{last}: ${last_cost:.2}, {:.0}% above the 7-day mean of ${mean:.2} (threshold {}%); grew: {}",
                (last_cost / mean - 1.0) * 100.0,
                b.spike_percent,
                if grew.is_empty() { "-".into() } else { grew.join(", ") }
            ),
            recommendation: "Look at what changed in the services that grew (a deploy, a traffic change, a runaway job)".into(),
            monthly_savings_usd: None,
        });
    }
    if last_cost > b.daily_usd {
        out.push(Finding {
            check: "cost.daily_budget".into(),
            title: "Daily budget exceeded".into(),
            resource: "account".into(),
            severity: Severity::High,
            detail: format!("{last}: ${last_cost:.2} > daily budget ${:.2}", b.daily_usd),
            recommendation: "Find the cost driver (by service below) or raise [cost] daily_budget_usd if the growth is expected".into(),
            monthly_savings_usd: None,
        });
    }
    let elapsed = last.day() as f64; // complete days of the month so far
    let month_days = days_in_month(last) as f64;
    let pace = b.monthly_usd * elapsed / month_days;
    let forecast = if elapsed > 0.0 {
        month_to_date / elapsed * month_days
    } else {
        0.0
    };
    if month_to_date > pace && elapsed > 0.0 {
        out.push(Finding {
            check: "cost.monthly_pace".into(),
            title: "Month to date ahead of budget pace".into(),
            resource: "account".into(),
            severity: Severity::Medium,
            detail: format!(
                "${month_to_date:.2} spent by {last}, pace for ${:.2}/month is ${pace:.2}",
                b.monthly_usd
            ),
            recommendation: "Review the largest services month to date".into(),
            monthly_savings_usd: None,
        });
    }
    if forecast > b.monthly_usd {
        out.push(Finding {
            check: "cost.forecast".into(),
            title: "Month-end forecast over budget".into(),
            resource: "account".into(),
            severity: Severity::Medium,
            detail: format!("linear forecast ${forecast:.2} > monthly budget ${:.2}", b.monthly_usd),
            recommendation: "Act on the waste findings, or raise [cost] monthly_budget_usd if the growth is expected".into(),
            monthly_savings_usd: None,
        });
    }
    (
        out,
        CostFigures {
            last_day: last,
            last_day_usd: last_cost,
            previous_7_day_mean_usd: mean,
            month_to_date_usd: month_to_date,
            pace_usd: pace,
            forecast_usd: forecast,
        },
    )
}

/// Prices for the waste estimates. us-east-1 on-demand list prices, read from the AWS
/// pricing pages (aws.amazon.com/rds/pricing, /fargate/pricing, /cloudwatch/pricing) in
/// November 2026. Estimates only: other regions, reserved capacity and discounts differ.
pub mod prices {
    /// RDS single-AZ PostgreSQL/MySQL instance-hour by class; unknown classes use `RDS_DEFAULT_HOURLY`.
    pub const RDS_HOURLY: &[(&str, f64)] = &[
        ("db.t3.micro", 0.018),
        ("db.t3.small", 0.036),
        ("db.t3.medium", 0.072),
        ("db.t4g.micro", 0.016),
        ("db.t4g.small", 0.032),
        ("db.t4g.medium", 0.065),
        ("db.m5.large", 0.178),
        ("db.m6g.large", 0.159),
        ("db.r5.large", 0.25),
    ];
    pub const RDS_DEFAULT_HOURLY: f64 = 0.10;
    /// Fargate: per vCPU-hour and per GB-hour; a task of 0.25 vCPU / 0.5 GB when its size is unknown.
    pub const FARGATE_VCPU_HOURLY: f64 = 0.04048;
    pub const FARGATE_GB_HOURLY: f64 = 0.004445;
    pub const DEFAULT_TASK_VCPU: f64 = 0.25;
    pub const DEFAULT_TASK_GB: f64 = 0.5;
    /// CloudWatch Logs storage per GB-month.
    pub const LOGS_GB_MONTH: f64 = 0.03;
    pub const HOURS_PER_MONTH: f64 = 730.0;
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A Lambda function with no invocations over the window.
pub fn idle_lambda(id: &str, invocations: f64, days: i64) -> Option<Finding> {
    (invocations == 0.0).then(|| Finding {
        check: "waste.lambda_idle".into(),
        title: "Lambda function not invoked".into(),
        resource: id.into(),
        severity: Severity::Low,
        detail: format!("no invocations in {days} days"),
        recommendation: "Remove it through faber-cloud if it is no longer used (it has no compute cost, but its code, role and logs remain)".into(),
        monthly_savings_usd: Some(0.0),
    })
}

/// An RDS instance with average CPU under 5% and no connections.
pub fn idle_rds(
    id: &str,
    class: &str,
    cpu_avg: Option<f64>,
    connections_max: f64,
    days: i64,
) -> Option<Finding> {
    let cpu = cpu_avg?;
    (cpu < 5.0 && connections_max == 0.0).then(|| {
        let hourly = prices::RDS_HOURLY
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(prices::RDS_DEFAULT_HOURLY, |(_, p)| *p);
        Finding {
            check: "waste.rds_idle".into(),
            title: "RDS instance idle".into(),
            resource: id.into(),
            severity: Severity::Low,
            detail: format!("average CPU {cpu:.1}% and no connections in {days} days ({class})"),
            recommendation: "Stop it, snapshot and delete it, or move it to a smaller class".into(),
            monthly_savings_usd: Some(round2(hourly * prices::HOURS_PER_MONTH)),
        }
    })
}

/// An ECS service with CPU under 10% and more than one task.
pub fn oversized_ecs(id: &str, cpu_avg: Option<f64>, running: i64, days: i64) -> Option<Finding> {
    let cpu = cpu_avg?;
    (cpu < 10.0 && running > 1).then(|| {
        let per_task = (prices::DEFAULT_TASK_VCPU * prices::FARGATE_VCPU_HOURLY + prices::DEFAULT_TASK_GB * prices::FARGATE_GB_HOURLY) * prices::HOURS_PER_MONTH;
        Finding {
            check: "waste.ecs_oversized".into(),
            title: "ECS service over-provisioned".into(),
            resource: id.into(),
            severity: Severity::Low,
            detail: format!("average CPU {cpu:.1}% over {days} days with {running} tasks"),
            recommendation: format!("Scale down (helm-cloud remediate --action scale_resources --service {id} --value 1) or add target-tracking autoscaling"),
            monthly_savings_usd: Some(round2(per_task * (running - 1) as f64)),
        }
    })
}

/// A log group without retention, or with more than `max_days`.
pub fn log_retention(
    id: &str,
    group: &str,
    retention: Option<i32>,
    stored_bytes: i64,
    max_days: i64,
) -> Option<Finding> {
    let too_long = retention.is_none_or(|r| i64::from(r) > max_days);
    too_long.then(|| Finding {
        check: "waste.log_retention".into(),
        title: if retention.is_none() {
            "Log group kept forever".into()
        } else {
            "Log group kept longer than policy".into()
        },
        resource: format!("{id} ({group})"),
        severity: Severity::Low,
        detail: match retention {
            None => format!(
                "no retention set; {:.2} GB stored",
                stored_bytes as f64 / 1e9
            ),
            Some(r) => format!(
                "retention {r} days > {max_days}; {:.2} GB stored",
                stored_bytes as f64 / 1e9
            ),
        },
        recommendation: format!(
            "aws logs put-retention-policy --log-group-name {group} --retention-in-days {max_days}"
        ),
        // Up to what is stored now: what the retention would let expire.
        monthly_savings_usd: Some(round2(stored_bytes as f64 / 1e9 * prices::LOGS_GB_MONTH)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn daily(rows: &[(&str, &str, f64)]) -> Daily {
        let mut d = Daily::new();
        for (date, svc, v) in rows {
            *d.entry(day(date))
                .or_default()
                .entry(svc.to_string())
                .or_default() += v;
        }
        d
    }

    const B: Budget = Budget {
        spike_percent: 20.0,
        daily_usd: 100.0,
        monthly_usd: 3000.0,
    };

    #[test]
    fn a_spike_names_the_services_that_grew() {
        let mut rows: Vec<(String, &str, f64)> = (8..=14)
            .map(|d| (format!("2025-11-{d:02}"), "AWS Lambda", 50.0))
            .collect();
        rows.push(("2025-11-15".into(), "AWS Lambda", 70.0));
        rows.push(("2025-11-15".into(), "Amazon RDS", 5.0));
        let r: Vec<(&str, &str, f64)> = rows.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
        let (f, fig) = budget_findings(&daily(&r), 500.0, day("2025-11-16"), B);
        let spike = f.iter().find(|x| x.check == "cost.spike").expect("spike");
        assert!(
            spike.detail.contains("AWS Lambda +$20.00")
                && spike.detail.contains("Amazon RDS +$5.00"),
            "{}",
            spike.detail
        );
        assert_eq!(fig.last_day_usd, 75.0);
        assert_eq!(fig.previous_7_day_mean_usd, 50.0);
        assert!(!f.iter().any(|x| x.check == "cost.daily_budget"));
    }

    #[test]
    fn budget_pace_and_forecast() {
        // 15 complete days of November at $120: over the daily budget, ahead of pace, forecast 3600.
        let rows: Vec<(String, &str, f64)> = (1..=15)
            .map(|d| (format!("2025-11-{d:02}"), "AWS Lambda", 120.0))
            .collect();
        let r: Vec<(&str, &str, f64)> = rows.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
        let (f, fig) = budget_findings(&daily(&r), 1800.0, day("2025-11-16"), B);
        let checks: Vec<&str> = f.iter().map(|x| x.check.as_str()).collect();
        assert_eq!(
            checks,
            ["cost.daily_budget", "cost.monthly_pace", "cost.forecast"]
        );
        assert_eq!(fig.pace_usd, 1500.0);
        assert_eq!(fig.forecast_usd, 3600.0);
        // Within budget: nothing.
        let (quiet, _) = budget_findings(
            &daily(&[("2025-11-15", "AWS Lambda", 10.0)]),
            150.0,
            day("2025-11-16"),
            B,
        );
        assert!(quiet.is_empty(), "{quiet:?}");
    }

    #[test]
    fn waste_rules_and_savings() {
        assert!(idle_lambda("f", 0.0, 14).is_some());
        assert!(idle_lambda("f", 3.0, 14).is_none());
        let rds = idle_rds("db", "db.t3.micro", Some(2.0), 0.0, 14).unwrap();
        assert_eq!(rds.monthly_savings_usd, Some(13.14));
        assert!(idle_rds("db", "db.t3.micro", Some(2.0), 3.0, 14).is_none());
        assert!(
            idle_rds("db", "db.t3.micro", None, 0.0, 14).is_none(),
            "no data is not idle"
        );
        let ecs = oversized_ecs("web", Some(4.0), 3, 14).unwrap();
        assert_eq!(ecs.monthly_savings_usd, Some(18.02));
        assert!(oversized_ecs("web", Some(4.0), 1, 14).is_none());
        assert!(log_retention("f", "/aws/lambda/f", None, 2_000_000_000, 30).is_some());
        assert!(log_retention("f", "/aws/lambda/f", Some(90), 0, 30).is_some());
        assert!(log_retention("f", "/aws/lambda/f", Some(14), 0, 30).is_none());
        assert_eq!(days_in_month(day("2024-02-10")), 29);
    }
}
