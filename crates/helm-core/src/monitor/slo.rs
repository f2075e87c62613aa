//! SLO arithmetic as small exact functions (after Sloth): upper-bound thresholds, error
//! budgets, saturation. Each returns a verdict; the caller words the reason.

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Ok,
    Degraded,
    Unhealthy,
}

/// An upper-bound SLO with threshold `t`: above `t` is a breach, above 80% of it degraded.
pub fn upper_bound(value: f64, t: f64) -> Verdict {
    if value > t {
        Verdict::Unhealthy
    } else if value > 0.8 * t {
        Verdict::Degraded
    } else {
        Verdict::Ok
    }
}

/// The share of the error budget used, in percent: an error rate of 0.09% against an
/// availability objective of 99.9% (budget 0.1%) uses 90% of the budget.
pub fn budget_used_percent(error_rate_percent: f64, availability_objective: f64) -> f64 {
    let budget = 100.0 - availability_objective;
    if budget <= 0.0 {
        return if error_rate_percent > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
    }
    error_rate_percent / budget * 100.0
}

/// Availability against objective `a`: below `a` is a breach; more than 80% of the error
/// budget used is degraded.
pub fn availability(error_rate_percent: f64, a: f64) -> Verdict {
    let available = 100.0 - error_rate_percent;
    if available < a {
        Verdict::Unhealthy
    } else if budget_used_percent(error_rate_percent, a) > 80.0 {
        Verdict::Degraded
    } else {
        Verdict::Ok
    }
}

/// Saturation: at or above `unhealthy` is UNHEALTHY, above `degraded` DEGRADED.
pub fn saturation(percent: f64, degraded: f64, unhealthy: f64) -> Verdict {
    if percent >= unhealthy {
        Verdict::Unhealthy
    } else if percent > degraded {
        Verdict::Degraded
    } else {
        Verdict::Ok
    }
}

/// A rate in percent, or None when there was no traffic (a rate without traffic is not
/// evaluated).
pub fn rate_percent(part: f64, total: f64) -> Option<f64> {
    (total > 0.0).then(|| part / total * 100.0)
}

/// Round for display and reports: whole numbers from 100 up, one decimal from 10, three
/// significant digits below (0.0553, 3.02), so small rates keep their meaning.
pub fn round(v: f64) -> f64 {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        v.round()
    } else if a >= 10.0 {
        (v * 10.0).round() / 10.0
    } else {
        let digits = 2 - a.log10().floor() as i32;
        let f = 10f64.powi(digits);
        (v * f).round() / f
    }
}

/// A rounded number as JSON: an integer when it is whole.
pub fn json_number(v: f64) -> serde_json::Value {
    let r = round(v);
    if r.fract() == 0.0 && r.abs() < 1e15 {
        serde_json::Value::from(r as i64)
    } else {
        serde_json::Value::from(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_bound_breaches_above_t_and_degrades_above_80_percent() {
        assert_eq!(upper_bound(5.2, 0.1), Verdict::Unhealthy);
        assert_eq!(
            upper_bound(0.1, 0.1),
            Verdict::Degraded,
            "equal to T is not a breach"
        );
        assert_eq!(upper_bound(0.09, 0.1), Verdict::Degraded);
        assert_eq!(
            upper_bound(0.08, 0.1),
            Verdict::Ok,
            "exactly 80% is not degraded"
        );
        assert_eq!(upper_bound(0.0, 0.1), Verdict::Ok);
        assert_eq!(upper_bound(250.0, 200.0), Verdict::Unhealthy);
    }

    #[test]
    fn availability_uses_the_error_budget() {
        assert_eq!(availability(0.2, 99.9), Verdict::Unhealthy);
        assert_eq!(availability(0.09, 99.9), Verdict::Degraded);
        assert_eq!(availability(0.05, 99.9), Verdict::Ok);
        assert_eq!(
            availability(0.1, 99.9),
            Verdict::Degraded,
            "exactly at the objective is not below it"
        );
        assert!((budget_used_percent(0.09, 99.9) - 90.0).abs() < 1e-9);
        assert_eq!(budget_used_percent(0.0, 100.0), 0.0);
        assert_eq!(availability(0.01, 100.0), Verdict::Unhealthy);
    }

    #[test]
    fn saturation_thresholds() {
        assert_eq!(saturation(95.0, 80.0, 95.0), Verdict::Unhealthy);
        assert_eq!(saturation(80.5, 80.0, 95.0), Verdict::Degraded);
        assert_eq!(saturation(80.0, 80.0, 95.0), Verdict::Ok);
    }

    #[test]
    fn rounding_keeps_small_rates_meaningful() {
        assert_eq!(round(3.015), 3.02);
        assert_eq!(round(0.05534), 0.0553);
        assert_eq!(round(924.7), 925.0);
        assert_eq!(round(16.18), 16.2);
        assert_eq!(json_number(3649.0), serde_json::json!(3649));
        assert_eq!(json_number(5.2), serde_json::json!(5.2));
    }

    #[test]
    fn rates_need_traffic() {
        assert_eq!(rate_percent(1.0, 0.0), None);
        assert_eq!(rate_percent(65.0, 1250.0), Some(5.2));
    }
}
