//! Durations as people write them in configuration and flags: `30s`, `5m`, `1h`, `7d`,
//! `2w`, and sums such as `1h30m`.

use std::time::Duration;

/// Parse a duration. Every number needs a unit; zero-length and unit-less values are refused.
pub fn parse(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration (write 30s, 5m, 1h, 7d)".into());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => {
                return Err(format!(
                    "{s:?} is not a duration: unknown unit {c:?} (use s, m, h, d, w)"
                ));
            }
        };
        if digits.is_empty() {
            return Err(format!("{s:?} is not a duration: a unit without a number"));
        }
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("{s:?} is not a duration: number too large"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("{s:?} is too long a duration"))?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!(
            "{s:?} is not a duration: {digits} has no unit (write {digits}s, {digits}m, {digits}h or {digits}d)"
        ));
    }
    if total == 0 {
        return Err(format!("{s:?} is a zero duration"));
    }
    Ok(Duration::from_secs(total))
}

/// Format a duration in the largest exact units (`90m` → `1h30m`).
pub fn format(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, name) in [(86_400, 'd'), (3600, 'h'), (60, 'm'), (1, 's')] {
        if secs >= unit {
            out.push_str(&format!("{}{name}", secs / unit));
            secs %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Property: every duration formats to a string that parses back to it, and no string
    /// (random bytes of the alphabet people type, units, digits, spaces, signs) panics.
    #[test]
    fn format_round_trips_and_no_input_panics() {
        use crate::testing::{Rng, cases};
        let alphabet: Vec<char> = "0123456789smhdwx .-+hé9".chars().collect();
        for seed in 1..=cases() * 10 {
            let mut rng = Rng::new(seed);
            let secs = match rng.below(3) {
                0 => rng.below(120) + 1,
                1 => rng.below(10_000_000) + 1,
                _ => rng.next_u64() % (u64::MAX / 1_000_000) + 1,
            };
            let d = Duration::from_secs(secs);
            assert_eq!(parse(&format(d)), Ok(d), "seed {seed}: {}", format(d));
            let len = rng.below(12) as usize;
            let s: String = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect();
            if let Ok(p) = parse(&s) {
                assert!(p.as_secs() > 0, "seed {seed}: {s:?}");
            }
        }
        // Overflow is an error, not a wrap.
        assert!(parse(&format!("{}w", u64::MAX / 604_800 + 1)).is_err());
        assert!(parse("18446744073709551615s1s").is_err());
    }

    #[test]
    fn parses_each_unit_and_sums() {
        assert_eq!(parse("30s").unwrap().as_secs(), 30);
        assert_eq!(parse("5m").unwrap().as_secs(), 300);
        assert_eq!(parse("1h").unwrap().as_secs(), 3600);
        assert_eq!(parse("7d").unwrap().as_secs(), 604_800);
        assert_eq!(parse("2w").unwrap().as_secs(), 1_209_600);
        assert_eq!(parse("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse(" 24h ").unwrap().as_secs(), 86_400);
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in ["", "5", "m", "5 minutes", "-1h", "1.5h", "0s", "1y", "h1"] {
            assert!(parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn formats_in_largest_units() {
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_secs(86_400)), "1d");
        assert_eq!(format(Duration::from_secs(45)), "45s");
    }
}
