//! The error-budget arithmetic, as small exact functions over 5-minute buckets of good and
//! total requests: the budget of a period (request weighted: good and total summed over the
//! period, as Application Signals' request-based SLOs count, not a mean of 5-minute ratios),
//! the burn rate over a window, and which multi-window alert pair fires (Google SRE
//! Workbook, ch. 5).

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use serde::Serialize;

/// The width of a bucket: CloudWatch's 5-minute period.
pub const BUCKET_SECS: i64 = 300;

/// The windows whose burn rates a report gives.
pub const WINDOWS: [(&str, i64); 7] = [
    ("5m", 300),
    ("30m", 1_800),
    ("1h", 3_600),
    ("2h", 7_200),
    ("6h", 21_600),
    ("1d", 86_400),
    ("3d", 259_200),
];

/// The period the Workbook's burn factors are stated for.
pub const WORKBOOK_PERIOD_SECS: i64 = 30 * 86_400;

/// Requests of one 5-minute bucket, starting at `start` (Unix seconds, a multiple of 300).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Bucket {
    pub start: i64,
    pub good: f64,
    pub total: f64,
}

/// The SLO period: rolling, or the calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Rolling(i64),
    CalendarMonth,
}

impl Period {
    /// `30d`, `7d`… or `month`.
    pub fn parse(s: &str) -> Result<Period, String> {
        if s.eq_ignore_ascii_case("month") {
            return Ok(Period::CalendarMonth);
        }
        let d = crate::config::duration::parse(s)?;
        let secs = d.as_secs() as i64;
        if secs < 3_600 || secs % BUCKET_SECS != 0 {
            return Err(format!(
                "{s:?}: a period is at least 1h and whole 5-minute buckets"
            ));
        }
        Ok(Period::Rolling(secs))
    }

    /// When the period that contains `now` started.
    pub fn start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Period::Rolling(secs) => now - Duration::seconds(*secs),
            Period::CalendarMonth => Utc
                .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
                .single()
                .unwrap_or(now),
        }
    }

    /// The whole period's length in seconds (a calendar month: its days, whatever part of it
    /// has passed).
    pub fn length_secs(&self, now: DateTime<Utc>) -> i64 {
        match self {
            Period::Rolling(secs) => *secs,
            Period::CalendarMonth => {
                let start = self.start(now);
                let (y, m) = if start.month() == 12 {
                    (start.year() + 1, 1)
                } else {
                    (start.year(), start.month() + 1)
                };
                let next = Utc
                    .with_ymd_and_hms(y, m, 1, 0, 0, 0)
                    .single()
                    .unwrap_or(start);
                (next - start).num_seconds()
            }
        }
    }

    pub fn label(&self) -> String {
        match self {
            Period::Rolling(secs) => {
                crate::config::duration::format(std::time::Duration::from_secs(*secs as u64))
            }
            Period::CalendarMonth => "month".into(),
        }
    }
}

/// A burn-rate alert: fires when both windows burn at or above `burn`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BurnPair {
    /// Window lengths in seconds.
    #[serde(serialize_with = "as_duration")]
    pub long: i64,
    #[serde(serialize_with = "as_duration")]
    pub short: i64,
    pub burn: f64,
}

fn as_duration<S: serde::Serializer>(secs: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::config::duration::format(
        std::time::Duration::from_secs(*secs as u64),
    ))
}

impl BurnPair {
    /// The factor for a period of `period_secs`: the Workbook states factors for 30 days
    /// (14.4 over 1h spends 2% of a 30-day budget); the same share of a budget spent in the
    /// same window over a period P needs a burn of `factor × P / 30d`.
    pub fn scaled(&self, period_secs: i64) -> BurnPair {
        BurnPair {
            burn: self.burn * period_secs as f64 / WORKBOOK_PERIOD_SECS as f64,
            ..*self
        }
    }
}

/// How much budget is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BudgetStatus {
    Ok,
    Warning,
    Breached,
    InsufficientData,
}

/// The error budget of a period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Budget {
    pub total_requests: f64,
    pub bad_requests: f64,
    /// Bad requests the objective allows over what has been served.
    pub allowed_bad_requests: f64,
    /// Allowed less spent: negative once the budget is overspent.
    pub remaining_requests: f64,
    /// Remaining as a percent of the allowed (100 untouched, 0 spent, below 0 overspent).
    pub remaining_percent: f64,
    /// good / total × 100 (None without requests).
    pub attainment_percent: Option<f64>,
    pub status: BudgetStatus,
}

/// The budget of `target_percent` (such as 99.9, below 100) over `buckets`, WARNING when the
/// remaining percent is below `warning_percent`.
pub fn budget(buckets: &[Bucket], target_percent: f64, warning_percent: f64) -> Budget {
    let total: f64 = buckets.iter().map(|b| b.total).sum();
    let good: f64 = buckets.iter().map(|b| b.good.min(b.total)).sum();
    let bad = total - good;
    let allowed = total * (1.0 - target_percent / 100.0);
    let remaining = allowed - bad;
    let remaining_percent = if allowed > 0.0 {
        remaining / allowed * 100.0
    } else if bad > 0.0 {
        f64::NEG_INFINITY
    } else {
        100.0
    };
    let status = if total <= 0.0 {
        BudgetStatus::InsufficientData
    } else if remaining_percent < 0.0 {
        BudgetStatus::Breached
    } else if remaining_percent < warning_percent {
        BudgetStatus::Warning
    } else {
        BudgetStatus::Ok
    };
    Budget {
        total_requests: total,
        bad_requests: bad,
        allowed_bad_requests: allowed,
        remaining_requests: remaining,
        remaining_percent,
        attainment_percent: (total > 0.0).then(|| good / total * 100.0),
        status,
    }
}

/// The buckets that start in `[now − window, now)`.
pub fn in_window(buckets: &[Bucket], now: i64, window_secs: i64) -> impl Iterator<Item = &Bucket> {
    buckets
        .iter()
        .filter(move |b| b.start >= now - window_secs && b.start < now)
}

/// (bad, total) over a window.
pub fn counts(buckets: &[Bucket], now: i64, window_secs: i64) -> (f64, f64) {
    in_window(buckets, now, window_secs).fold((0.0, 0.0), |(bad, total), b| {
        (bad + (b.total - b.good.min(b.total)), total + b.total)
    })
}

/// How fast the budget burns over a window: the window's error ratio over the allowed one
/// (1.0 spends exactly the budget over the period). None without requests in the window.
pub fn burn_rate(
    buckets: &[Bucket],
    now: i64,
    window_secs: i64,
    target_percent: f64,
) -> Option<f64> {
    let (bad, total) = counts(buckets, now, window_secs);
    let allowed_ratio = 1.0 - target_percent / 100.0;
    (total > 0.0 && allowed_ratio > 0.0).then(|| (bad / total) / allowed_ratio)
}

/// The alert state of an objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Ok,
    Ticket,
    Page,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Ok => "ok",
            AlertState::Ticket => "ticket",
            AlertState::Page => "page",
        }
    }
}

/// Alerting rules: the pairs (already scaled to the period) and the least traffic in the
/// long window that may fire one.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub page: Vec<BurnPair>,
    pub ticket: Vec<BurnPair>,
    pub min_requests: f64,
}

/// The first pair of `pairs` that fires: both windows at or above its factor, and at least
/// `min_requests` in the long window.
fn firing(
    buckets: &[Bucket],
    now: i64,
    target: f64,
    pairs: &[BurnPair],
    min_requests: f64,
) -> Option<BurnPair> {
    pairs.iter().copied().find(|p| {
        let (_, long_total) = counts(buckets, now, p.long);
        let at = |w| burn_rate(buckets, now, w, target).is_some_and(|b| b >= p.burn);
        long_total >= min_requests && at(p.long) && at(p.short)
    })
}

/// Which alert fires, and the pair that fired it; a page silences the objective's ticket.
pub fn alert(
    buckets: &[Bucket],
    now: i64,
    target: f64,
    rules: &Rules,
) -> (AlertState, Option<BurnPair>) {
    if let Some(p) = firing(buckets, now, target, &rules.page, rules.min_requests) {
        return (AlertState::Page, Some(p));
    }
    if let Some(p) = firing(buckets, now, target, &rules.ticket, rules.min_requests) {
        return (AlertState::Ticket, Some(p));
    }
    (AlertState::Ok, None)
}

/// The remaining budget at `points` even steps through the period, oldest first: the
/// budget's own sparkline.
pub fn remaining_over_time(
    buckets: &[Bucket],
    start: i64,
    now: i64,
    target: f64,
    points: usize,
) -> Vec<f64> {
    let step = ((now - start) / points.max(1) as i64).max(BUCKET_SECS);
    (1..=points)
        .map(|i| {
            let upto = start + step * i as i64;
            let seen: Vec<Bucket> = buckets.iter().filter(|b| b.start < upto).copied().collect();
            let b = budget(&seen, target, 0.0);
            if b.remaining_percent.is_finite() {
                b.remaining_percent
            } else {
                -100.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // A bucket boundary (a multiple of 300).
    const NOW: i64 = 1_700_100_000;

    /// `n` buckets back from NOW, each with `total` requests and `bad` of them bad.
    fn steady(n: i64, total: f64, bad: f64) -> Vec<Bucket> {
        (1..=n)
            .map(|i| Bucket {
                start: NOW - i * BUCKET_SECS,
                good: total - bad,
                total,
            })
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_budget_is_request_weighted_and_may_go_negative() {
        // Golden table: (total, bad) per bucket over 288 buckets (one day) at 99.9%.
        for (total, bad, remaining_pct, status) in [
            (100.0, 0.0, 100.0, BudgetStatus::Ok),
            (100.0, 0.05, 50.0, BudgetStatus::Ok),
            (100.0, 0.08, 20.0, BudgetStatus::Warning),
            // 0 % left is spent, not overspent: WARNING (below 25).
            (100.0, 0.1, 0.0, BudgetStatus::Warning),
            (100.0, 0.3, -200.0, BudgetStatus::Breached),
        ] {
            let b = budget(&steady(288, total, bad), 99.9, 25.0);
            assert!(
                close(b.remaining_percent, remaining_pct),
                "{bad}: {}",
                b.remaining_percent
            );
            assert_eq!(b.status, status, "{bad}");
            assert!(close(b.total_requests, 28_800.0));
        }
        // Weighted, not a mean of ratios: one bad bucket of 1 request among busy ones.
        let mut v = steady(10, 1000.0, 0.0);
        v.push(Bucket {
            start: NOW - 11 * 300,
            good: 0.0,
            total: 1.0,
        });
        let b = budget(&v, 99.0, 25.0);
        assert!(close(
            b.attainment_percent.unwrap(),
            10_000.0 / 10_001.0 * 100.0
        ));
        assert_eq!(
            budget(&[], 99.9, 25.0).status,
            BudgetStatus::InsufficientData
        );
        assert_eq!(budget(&[], 99.9, 25.0).attainment_percent, None);
    }

    #[test]
    fn burn_rates_per_window_and_none_without_requests() {
        // 3 days steady at 0.05% errors, then the last 5 minutes at 2%.
        let mut v = steady(864, 1000.0, 0.5);
        v.retain(|b| b.start != NOW - 300);
        v.push(Bucket {
            start: NOW - 300,
            good: 980.0,
            total: 1000.0,
        });
        let burn = |w| burn_rate(&v, NOW, w, 99.9).unwrap();
        assert!(close(burn(300), 20.0));
        assert!(close(burn(1_800), (0.5 * 5.0 + 20.0) / 6000.0 / 0.001));
        assert!(close(
            burn(259_200),
            (0.5 * 863.0 + 20.0) / 864_000.0 / 0.001
        ));
        assert_eq!(burn_rate(&[], NOW, 300, 99.9), None);
        assert_eq!(burn_rate(&v, NOW - 10 * 86_400, 300, 99.9), None);
    }

    fn rules() -> Rules {
        Rules {
            page: vec![
                BurnPair {
                    long: 3_600,
                    short: 300,
                    burn: 14.4,
                },
                BurnPair {
                    long: 21_600,
                    short: 1_800,
                    burn: 6.0,
                },
            ],
            ticket: vec![
                BurnPair {
                    long: 86_400,
                    short: 7_200,
                    burn: 3.0,
                },
                BurnPair {
                    long: 259_200,
                    short: 21_600,
                    burn: 1.0,
                },
            ],
            min_requests: 100.0,
        }
    }

    #[test]
    fn which_pair_fires() {
        // A burst over the last hour at 2% errors (burn 20): the 1h/5m page fires.
        let mut v = steady(864, 1000.0, 0.0);
        for b in v.iter_mut().filter(|b| b.start >= NOW - 3_600) {
            b.good = 980.0;
        }
        let (state, pair) = alert(&v, NOW, 99.9, &rules());
        assert_eq!(state, AlertState::Page);
        assert_eq!(pair.unwrap().long, 3_600);

        // The burst ended 10 minutes ago: the short window no longer burns; the 1h/5m pair
        // stops, nothing else reaches its factor (6h at 1h×20/6 = 3.3 < 6): the ticket
        // 1d/2h needs 3.0 on both: 2h burns 20×50/120 = 8.3, 1d 20×50/1440 = 0.69: ok.
        let mut v2 = steady(864, 1000.0, 0.0);
        for b in v2
            .iter_mut()
            .filter(|b| b.start >= NOW - 3_600 && b.start < NOW - 600)
        {
            b.good = 980.0;
        }
        assert_eq!(alert(&v2, NOW, 99.9, &rules()).0, AlertState::Ok);

        // A slow leak at burn 1.2 for three days: the 3d/6h ticket, no page.
        let leak = steady(864, 1000.0, 1.2);
        let (state, pair) = alert(&leak, NOW, 99.9, &rules());
        assert_eq!(state, AlertState::Ticket);
        assert_eq!(pair.unwrap().long, 259_200);

        // The same burst on 50 requests an hour: under min_requests, nothing fires.
        let quiet: Vec<Bucket> = steady(12, 4.0, 0.2);
        assert_eq!(alert(&quiet, NOW, 99.9, &rules()).0, AlertState::Ok);
    }

    #[test]
    fn a_page_silences_the_ticket_of_the_same_objective() {
        // Everything burns at 50: both a page and a ticket pair fire; the page is reported.
        let v = steady(864, 1000.0, 50.0);
        assert_eq!(alert(&v, NOW, 99.9, &rules()).0, AlertState::Page);
    }

    #[test]
    fn factors_scale_with_the_period_and_a_month_has_its_days() {
        let p = BurnPair {
            long: 3_600,
            short: 300,
            burn: 14.4,
        };
        assert!(close(p.scaled(30 * 86_400).burn, 14.4));
        assert!(close(p.scaled(7 * 86_400).burn, 14.4 * 7.0 / 30.0));
        let feb = Utc.with_ymd_and_hms(2028, 2, 15, 12, 0, 0).unwrap();
        assert_eq!(Period::CalendarMonth.length_secs(feb), 29 * 86_400);
        assert_eq!(
            Period::CalendarMonth.start(feb),
            Utc.with_ymd_and_hms(2028, 2, 1, 0, 0, 0).unwrap()
        );
        let dec = Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap();
        assert_eq!(Period::CalendarMonth.length_secs(dec), 31 * 86_400);
        assert_eq!(Period::parse("30d").unwrap(), Period::Rolling(30 * 86_400));
        assert_eq!(Period::parse("MONTH").unwrap(), Period::CalendarMonth);
        assert!(Period::parse("10m").is_err());
        assert!(Period::parse("soon").is_err());
    }

    #[test]
    fn the_budget_over_time_falls_as_bad_requests_arrive() {
        let mut v = steady(288, 1000.0, 0.0);
        for b in v.iter_mut().filter(|b| b.start >= NOW - 3_600) {
            b.good = 990.0;
        }
        let line = remaining_over_time(&v, NOW - 86_400, NOW, 99.9, 12);
        assert_eq!(line.len(), 12);
        assert!(close(line[0], 100.0));
        assert!(line[11] < line[10] || line[11] < 100.0, "{line:?}");
    }
}
