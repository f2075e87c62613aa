//! The numbers an action may send, checked before any AWS call: each bound is the API's
//! documented range or the service quota that AWS would enforce, so a value that cannot be
//! right (`--value 4294967296`, which an `as i32` wraps to 0 tasks) never reaches AWS.

use crate::resource::ResourceKind;
use std::fmt;

/// ECS "Tasks per service" quota (5,000, not adjustable): the largest `desiredCount` and the
/// largest Application Auto Scaling capacity of an ECS service.
pub const ECS_MAX_TASKS: i64 = 5_000;
/// UpdateShardCount's largest target for one stream.
pub const KINESIS_MAX_SHARDS: i64 = 10_000;

/// The shard counts one UpdateShardCount may move a stream of `current` open shards to:
/// no fewer than half (rounded up), no more than double.
pub fn reshard_bounds(current: i64) -> (i64, i64) {
    (
        (current + 1) / 2,
        (current.saturating_mul(2)).min(KINESIS_MAX_SHARDS),
    )
}

/// Lambda keeps at least this much of the account's concurrency unreserved.
pub const LAMBDA_MIN_UNRESERVED: i64 = 100;

/// A value outside what the API accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfRange {
    /// What the value is (`--value (ECS desired count)`).
    pub what: String,
    pub value: i64,
    pub min: i64,
    pub max: i64,
    /// Where the bound comes from.
    pub source: &'static str,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} is out of range: {} to {} ({})",
            self.what, self.value, self.min, self.max, self.source
        )
    }
}

fn within(
    what: String,
    v: i64,
    min: i64,
    max: i64,
    source: &'static str,
) -> Result<i32, OutOfRange> {
    if (min..=max).contains(&v) {
        // max never exceeds i32::MAX, so this cannot fail.
        i32::try_from(v).map_err(|_| OutOfRange {
            what: what.clone(),
            value: v,
            min,
            max,
            source,
        })
    } else {
        Err(OutOfRange {
            what,
            value: v,
            min,
            max,
            source,
        })
    }
}

/// The new size a scaling action sets: ECS desired count or Lambda reserved concurrency.
/// The Lambda bound here is the API's type; the account's own limit is checked with
/// [`lambda_account_bound`] once it is read.
pub fn scale_value(kind: ResourceKind, label: &str, v: i64) -> Result<i32, OutOfRange> {
    match kind {
        ResourceKind::Ecs => within(
            format!("{label} (ECS desired count)"),
            v,
            0,
            ECS_MAX_TASKS,
            "ECS quota: 5,000 tasks per service",
        ),
        // Half to double the current count is checked once the stream is read.
        ResourceKind::Kinesis => within(
            format!("{label} (Kinesis open shards)"),
            v,
            1,
            KINESIS_MAX_SHARDS,
            "Kinesis UpdateShardCount: at most 10,000 shards per stream",
        ),
        // The group's own MinSize..MaxSize is checked once it is read.
        ResourceKind::Asg => within(
            format!("{label} (Auto Scaling desired capacity)"),
            v,
            0,
            i64::from(i32::MAX),
            "Auto Scaling DesiredCapacity is a 32-bit count",
        ),
        _ => within(
            format!("{label} (Lambda reserved concurrency)"),
            v,
            0,
            i64::from(i32::MAX),
            "Lambda ReservedConcurrentExecutions is a 32-bit count",
        ),
    }
}

/// modify_autoscaling's bounds on an ECS service.
pub fn autoscaling_bounds(min: i64, max: i64) -> Result<(i32, i32), OutOfRange> {
    let source = "Application Auto Scaling on ECS: 0 to 5,000 tasks";
    let lo = within("--min".into(), min, 0, ECS_MAX_TASKS, source)?;
    let hi = within(
        "--max".into(),
        max,
        min.max(0),
        ECS_MAX_TASKS,
        "--max must be at least --min, at most 5,000 tasks",
    )?;
    Ok((lo, hi))
}

/// The most reserved concurrency one function may take: what is unreserved now plus what the
/// function already holds, less the 100 that Lambda keeps unreserved.
pub fn lambda_account_bound(unreserved_now: i64, function_reserved_now: i64) -> i64 {
    (unreserved_now + function_reserved_now - LAMBDA_MIN_UNRESERVED).max(0)
}

/// increase_capacity: ×1.5 rounded up, at least one more.
pub fn increased(current: i64) -> i64 {
    let up = (current as f64 * 1.5).ceil();
    // Saturate rather than wrap; the range check that follows refuses it.
    let up = if up >= i64::MAX as f64 {
        i64::MAX
    } else {
        up as i64
    };
    up.max(current.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_would_wrap_to_zero_is_refused() {
        let e = scale_value(ResourceKind::Ecs, "--value", 4_294_967_296).unwrap_err();
        assert_eq!(e.max, 5_000);
        assert!(e.to_string().contains("4294967296 is out of range"), "{e}");
        assert!(scale_value(ResourceKind::Lambda, "--value", 4_294_967_296).is_err());
        assert!(scale_value(ResourceKind::Ecs, "--value", -1).is_err());
    }

    #[test]
    fn values_in_range_pass_through_unchanged() {
        assert_eq!(scale_value(ResourceKind::Ecs, "--value", 0), Ok(0));
        assert_eq!(scale_value(ResourceKind::Ecs, "--value", 5_000), Ok(5_000));
        assert!(scale_value(ResourceKind::Ecs, "--value", 5_001).is_err());
        assert_eq!(scale_value(ResourceKind::Lambda, "--value", 900), Ok(900));
    }

    #[test]
    fn a_reshard_moves_between_half_and_double() {
        assert_eq!(reshard_bounds(2), (1, 4));
        assert_eq!(reshard_bounds(3), (2, 6));
        assert_eq!(reshard_bounds(1), (1, 2));
        assert_eq!(reshard_bounds(8_000).1, 10_000);
        assert!(scale_value(ResourceKind::Kinesis, "--value", 0).is_err());
        assert_eq!(scale_value(ResourceKind::Kinesis, "--value", 4), Ok(4));
    }

    #[test]
    fn autoscaling_bounds_are_ordered_and_capped() {
        assert_eq!(autoscaling_bounds(1, 10), Ok((1, 10)));
        assert!(autoscaling_bounds(5, 4).is_err());
        assert!(autoscaling_bounds(-1, 4).is_err());
        assert!(autoscaling_bounds(1, 5_001).is_err());
        assert!(autoscaling_bounds(1, 4_294_967_297).is_err());
    }

    #[test]
    fn lambda_keeps_100_unreserved_and_increase_saturates() {
        // 1000 in the account, 200 reserved elsewhere, 50 by this function: 800 - 50 unreserved.
        assert_eq!(lambda_account_bound(750, 50), 700);
        assert_eq!(lambda_account_bound(50, 0), 0);
        assert_eq!(increased(2), 3);
        assert_eq!(increased(4), 6);
        assert_eq!(increased(0), 1);
        assert!(scale_value(ResourceKind::Ecs, "x", increased(4_000)).is_err());
        assert_eq!(increased(i64::MAX), i64::MAX);
    }
}
