//! Property tests (proptest) of the core's pure logic: SLO maths, the priority score,
//! durations, the filter-pattern parser and masking. `PROPTEST_CASES` runs more cases
//! (the default here is 256 a property); a failure prints the smallest input it found.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use helm_core::config::duration;
use helm_core::investigator::filter::Filter;
use helm_core::investigator::redact::redact;
use helm_core::issues::{Issue, priority_score};
use helm_core::slo::budget::{Bucket, BudgetStatus, budget, burn_rate};
use proptest::prelude::*;
use std::time::Duration;

fn buckets() -> impl Strategy<Value = Vec<Bucket>> {
    prop::collection::vec((0u32..1_000_000, 0u32..1_200_000), 0..60).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (total, good))| Bucket {
                start: i as i64 * 300,
                total: f64::from(total),
                // Good above total is clamped by the maths (a metric can overcount).
                good: f64::from(good),
            })
            .collect()
    })
}

fn target() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(90.0),
        Just(99.0),
        Just(99.5),
        Just(99.9),
        Just(99.99),
        50.0f64..99.999
    ]
}

proptest! {
    #[test]
    fn a_budget_is_bounded_and_its_status_follows_what_remains(b in buckets(), t in target()) {
        let out = budget(&b, t, 25.0);
        prop_assert!(out.bad_requests >= 0.0 && out.bad_requests <= out.total_requests);
        prop_assert!(out.remaining_percent <= 100.0 + 1e-9);
        if let Some(a) = out.attainment_percent {
            prop_assert!((0.0..=100.0).contains(&a));
        }
        let want = if out.total_requests <= 0.0 {
            BudgetStatus::InsufficientData
        } else if out.remaining_percent < 0.0 {
            BudgetStatus::Breached
        } else if out.remaining_percent < 25.0 {
            BudgetStatus::Warning
        } else {
            BudgetStatus::Ok
        };
        prop_assert_eq!(out.status, want);
    }

    #[test]
    fn one_more_bad_request_never_leaves_more_budget(b in buckets(), t in target(), at in 0usize..60) {
        prop_assume!(!b.is_empty());
        let i = at % b.len();
        // A bad request: one more served, no more good (of a bucket that does not overcount).
        let mut b = b;
        b[i].good = b[i].good.min(b[i].total);
        let before = budget(&b, t, 25.0);
        let mut worse = b.clone();
        worse[i].total += 1.0;
        let after = budget(&worse, t, 25.0);
        prop_assert!(after.remaining_requests <= before.remaining_requests + 1e-9);
    }

    #[test]
    fn burning_at_rate_r_over_the_whole_period_leaves_1_minus_r_of_the_budget(b in buckets(), t in target()) {
        let end = b.len() as i64 * 300;
        let burn = burn_rate(&b, end, end.max(1), t);
        let total: f64 = b.iter().map(|x| x.total).sum();
        prop_assert_eq!(burn.is_some(), total > 0.0);
        if let Some(r) = burn {
            prop_assert!(r >= 0.0);
            let left = budget(&b, t, 25.0).remaining_percent;
            prop_assert!((left - 100.0 * (1.0 - r)).abs() <= 1e-6 * (1.0 + r.abs() * 100.0), "{} vs {}", left, r);
        }
    }

    #[test]
    fn the_priority_score_follows_severity_breach_and_age(
        sev in prop_oneof![Just("CRITICAL"), Just("HIGH"), Just("MEDIUM"), Just("LOW")],
        breach in any::<bool>(),
        weight in 0.0f64..5.0,
        age_h in 0i64..10_000,
        later_h in 0i64..1_000,
    ) {
        let detected: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let issue: Issue = serde_json::from_value(serde_json::json!({
            "id": "i", "domain": "infrastructure", "severity": sev, "title": "t",
            "slo_breach": breach, "detected_at": "2026-01-01T00:00:00Z", "environment": "test",
        })).unwrap();
        let now = detected + ChronoDuration::hours(age_h);
        let score = priority_score(&issue, weight, now);
        let expected = issue.severity.weight() * weight + if breach { 2.0 } else { 0.0 } + age_h as f64;
        prop_assert!((score - expected).abs() < 1e-9);
        prop_assert!(priority_score(&issue, weight, now + ChronoDuration::hours(later_h)) >= score);
        // Before it was detected (a clock skew), age counts as zero, never negative.
        prop_assert!(priority_score(&issue, weight, detected - ChronoDuration::hours(age_h)) >= issue.severity.weight() * weight);
    }

    #[test]
    fn a_duration_round_trips_and_any_text_parses_or_says_why(secs in 0u64..10_000_000_000, junk in "\\PC{0,40}") {
        let d = Duration::from_secs(secs);
        prop_assert_eq!(duration::parse(&duration::format(d)), Ok(d));
        if let Err(e) = duration::parse(&junk) {
            prop_assert!(!e.is_empty());
        }
    }

    #[test]
    fn the_filter_parser_never_panics_and_a_parsed_filter_answers(
        pattern in prop_oneof![
            "\\PC{0,60}",
            "[ ?\\-\"{}()$.=<>!&|*a-zA-Z0-9_]{0,60}",
            "\\{ \\$\\.[a-z]{1,8} (=|!=|>|<|>=|<=) (\"[a-z*]{0,6}\"|[0-9]{1,4}) (&&|\\|\\|) \\$\\.[a-z]{1,8} = [0-9]{1,3} \\}",
        ],
        message in "\\PC{0,80}",
    ) {
        if let Ok(f) = Filter::parse(&pattern) {
            let _ = f.matches(&message);
            let _ = f.server_side();
        }
    }

    #[test]
    fn masking_hides_the_secret_and_is_idempotent(
        key in prop_oneof![Just("password"), Just("DB_PASSWORD"), Just("api_key"), Just("client_secret"), Just("token")],
        secret in "[A-Za-z0-9!#%()*+./<>?@_~-]{6,30}",
        before in "[a-z ]{0,20}",
        sep in prop_oneof![Just("="), Just(": "), Just("\": \"")],
    ) {
        let line = format!("{before} {key}{sep}{secret} done");
        let once = redact(&line).into_owned();
        prop_assert!(!once.contains(&secret), "{}", once);
        prop_assert_eq!(redact(&once).into_owned(), once.clone());
    }

    #[test]
    fn an_access_key_id_is_masked_wherever_it_stands(prefix in "[a-z ,;:(]{0,20}", id in "AKIA[A-Z0-9]{16}", suffix in "[a-z ,;:)]{0,20}") {
        let line = format!("{prefix} {id} {suffix}");
        prop_assert!(!redact(&line).contains(&id));
    }
}
