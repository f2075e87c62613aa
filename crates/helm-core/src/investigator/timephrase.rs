//! Time words in a question: "last 2 hours", "past 30 minutes", "since 14:00",
//! "since 2025-11-03 14:00", "today", "yesterday", "last 15m".

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};

/// A window found in a phrase, and the words it used (to leave out of resource matching).
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub words: Vec<String>,
}

fn unit_secs(word: &str) -> Option<i64> {
    let w = word.trim_end_matches(|c: char| !c.is_ascii_alphabetic());
    Some(match w {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    })
}

/// Find a time window in `text` relative to `now` (times of day are UTC).
pub fn find(text: &str, now: DateTime<Utc>) -> Option<Found> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, ',' | '?' | '!' | '.'))
                .to_ascii_lowercase()
        })
        .collect();
    for (i, w) in words.iter().enumerate() {
        match w.as_str() {
            "last" | "past" | "previous" => {
                // "last hour", "last 2 hours", "last 15m"
                let next = words.get(i + 1)?;
                if let Some(u) = unit_secs(next) {
                    return Some(Found {
                        start: now - Duration::seconds(u),
                        end: now,
                        words: words[i..=i + 1].to_vec(),
                    });
                }
                let digits: String = next.chars().take_while(|c| c.is_ascii_digit()).collect();
                if let Ok(n) = digits.parse::<i64>() {
                    let rest = &next[digits.len()..];
                    let (unit, used) = if rest.is_empty() {
                        (words.get(i + 2).and_then(|u| unit_secs(u)), 3)
                    } else {
                        (unit_secs(rest), 2)
                    };
                    if let Some(u) = unit {
                        return Some(Found {
                            start: now - Duration::seconds(n * u),
                            end: now,
                            words: words[i..i + used].to_vec(),
                        });
                    }
                }
            }
            "since" => {
                let next = words.get(i + 1)?;
                if let Ok(t) = NaiveTime::parse_from_str(next, "%H:%M") {
                    let mut start = Utc.from_utc_datetime(&now.date_naive().and_time(t));
                    if start > now {
                        start -= Duration::days(1);
                    }
                    return Some(Found {
                        start,
                        end: now,
                        words: words[i..=i + 1].to_vec(),
                    });
                }
                if let Some(t) = crate::clock::parse_rfc3339(&next.to_ascii_uppercase()) {
                    return Some(Found {
                        start: t,
                        end: now,
                        words: words[i..=i + 1].to_vec(),
                    });
                }
                if let Ok(d) = NaiveDate::parse_from_str(next, "%Y-%m-%d") {
                    let (time, used) = match words
                        .get(i + 2)
                        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
                    {
                        Some(t) => (t, 3),
                        None => (NaiveTime::MIN, 2),
                    };
                    return Some(Found {
                        start: Utc.from_utc_datetime(&d.and_time(time)),
                        end: now,
                        words: words[i..i + used].to_vec(),
                    });
                }
                if next == "yesterday" || next == "today" {
                    let midnight =
                        Utc.from_utc_datetime(&now.date_naive().and_time(NaiveTime::MIN));
                    let start = if next == "today" {
                        midnight
                    } else {
                        midnight - Duration::days(1)
                    };
                    return Some(Found {
                        start,
                        end: now,
                        words: words[i..=i + 1].to_vec(),
                    });
                }
            }
            "today" => {
                let midnight = Utc.from_utc_datetime(&now.date_naive().and_time(NaiveTime::MIN));
                return Some(Found {
                    start: midnight,
                    end: now,
                    words: vec![w.clone()],
                });
            }
            "yesterday" => {
                let midnight = Utc.from_utc_datetime(&now.date_naive().and_time(NaiveTime::MIN));
                return Some(Found {
                    start: midnight - Duration::days(1),
                    end: midnight,
                    words: vec![w.clone()],
                });
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        crate::clock::parse_rfc3339("2025-11-03T15:30:00Z").unwrap()
    }

    fn span(text: &str) -> (String, String) {
        let f = find(text, now()).unwrap_or_else(|| panic!("no time in {text:?}"));
        (crate::clock::rfc3339(f.start), crate::clock::rfc3339(f.end))
    }

    #[test]
    fn relative_phrases() {
        assert_eq!(span("errors in the last 2 hours").0, "2025-11-03T13:30:00Z");
        assert_eq!(
            span("what happened in the past 30 minutes?").0,
            "2025-11-03T15:00:00Z"
        );
        assert_eq!(span("last hour").0, "2025-11-03T14:30:00Z");
        assert_eq!(span("last 15m").0, "2025-11-03T15:15:00Z");
        assert_eq!(span("over the last day").0, "2025-11-02T15:30:00Z");
    }

    #[test]
    fn absolute_phrases() {
        assert_eq!(span("since 14:00").0, "2025-11-03T14:00:00Z");
        assert_eq!(
            span("since 16:00").0,
            "2025-11-02T16:00:00Z",
            "a time later than now is yesterday's"
        );
        assert_eq!(span("since 2025-11-01 09:15").0, "2025-11-01T09:15:00Z");
        assert_eq!(span("since 2025-11-03T12:00:00Z").0, "2025-11-03T12:00:00Z");
        assert_eq!(
            span("today"),
            ("2025-11-03T00:00:00Z".into(), "2025-11-03T15:30:00Z".into())
        );
        assert_eq!(
            span("yesterday"),
            ("2025-11-02T00:00:00Z".into(), "2025-11-03T00:00:00Z".into())
        );
    }

    #[test]
    fn no_time_words() {
        assert!(find("api function errors", now()).is_none());
        assert!(find("last deploy", now()).is_none());
        assert_eq!(
            find("api errors last 2 hours", now()).unwrap().words,
            vec!["last", "2", "hours"]
        );
    }
}
