//! The dashboard drawn for people: a box for the terminal (cells measured as a terminal
//! shows them) and sentences for text-to-speech (no symbols, numbers and durations in
//! words).

use crate::commands::central::glyph;
use helm_core::central::{DomainRow, Ranked, short_age, spoken_duration};
use helm_core::clock::rfc3339;
use helm_core::issues::Issue;
use helm_core::monitor::HealthStatus;
use unicode_width::UnicodeWidthChar;

pub fn boxed(
    overall: HealthStatus,
    rows: &[DomainRow],
    top: &[Ranked],
    actions: &[String],
    resolved: &[Issue],
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let width: usize = 72;
    let line = |s: &str| {
        // Columns as a terminal shows them (the severity glyphs take two); what does not
        // fit is cut with an ellipsis.
        let cols = |c: char| c.width().unwrap_or(0);
        let mut used = 0;
        let mut fitted = String::new();
        let total: usize = s.chars().map(cols).sum();
        for c in s.chars() {
            if total > width && used + cols(c) > width - 1 {
                fitted.push('…');
                used += 1;
                break;
            }
            used += cols(c);
            fitted.push(c);
        }
        format!("║ {}{} ║\n", fitted, " ".repeat(width.saturating_sub(used)))
    };
    let rule = |l: char, r: char| format!("{l}{}{r}\n", "═".repeat(width + 2));
    let mut s = rule('╔', '╗');
    s.push_str(&line(&format!(
        "HELM DASHBOARD · {} · overall {}",
        rfc3339(now),
        overall.as_str()
    )));
    s.push_str(&rule('╠', '╣'));
    s.push_str(&line("DOMAINS"));
    for r in rows {
        let health = r
            .health
            .map(|h| h.as_str().to_string())
            .unwrap_or_else(|| r.state.to_uppercase());
        let age = r
            .age_hours
            .map(|a| format!("report {} old", short_age(a)))
            .unwrap_or_default();
        let stale = if r.stale { " (STALE)" } else { "" };
        s.push_str(&line(&format!(
            "  {:<15} {:<8} {:<10} {age}{stale}",
            r.domain, r.environment, health
        )));
    }
    s.push_str(&rule('╠', '╣'));
    s.push_str(&line(&format!("TOP ISSUES ({})", top.len())));
    if top.is_empty() {
        s.push_str(&line("  none"));
    }
    for r in top {
        let t: String = r.issue.title.chars().take(40).collect();
        s.push_str(&line(&format!(
            "  {} {} [{}/{}] {} · {:.1}",
            glyph(r.issue.severity),
            r.issue.id,
            r.issue.domain,
            r.issue.environment,
            t,
            r.score
        )));
    }
    if !resolved.is_empty() {
        s.push_str(&rule('╠', '╣'));
        s.push_str(&line(&format!(
            "RESOLVED IN THE LAST 24H ({})",
            resolved.len()
        )));
        for i in resolved {
            let t: String = i.title.chars().take(44).collect();
            s.push_str(&line(&format!("  ✓ {} [{}] {}", i.id, i.environment, t)));
        }
    }
    s.push_str(&rule('╠', '╣'));
    s.push_str(&line("RECOMMENDED ACTIONS"));
    if actions.is_empty() {
        s.push_str(&line("  nothing to do"));
    }
    for a in actions {
        let t: String = a.chars().take(width - 2).collect();
        s.push_str(&line(&format!("  {t}")));
    }
    s.push_str(&rule('╚', '╝'));
    s
}

fn spoken_health(h: HealthStatus) -> &'static str {
    match h {
        HealthStatus::Healthy => "healthy",
        HealthStatus::Degraded => "degraded",
        HealthStatus::Unhealthy => "unhealthy",
        HealthStatus::Unknown => "unknown",
    }
}

/// Sentences for text-to-speech: no symbols, no tables, numbers and durations in words
/// a speech engine reads well.
pub fn voice(
    overall: HealthStatus,
    rows: &[DomainRow],
    top: &[Ranked],
    actions: &[String],
    resolved: &[Issue],
) -> String {
    let mut s = format!("Overall health is {}.", spoken_health(overall));
    for r in rows {
        let sentence = match (r.health, r.age_hours) {
            (Some(h), Some(a)) => format!(
                " The {} domain in {} is {}, as of {} ago{}.",
                r.domain,
                r.environment,
                spoken_health(h),
                spoken_duration(a),
                if r.stale {
                    ", and that report is stale"
                } else {
                    ""
                }
            ),
            _ if r.state == "planned" => format!(" The {} domain is planned.", r.domain),
            _ if r.state == "no report" => format!(
                " The {} domain in {} has no health report yet.",
                r.domain, r.environment
            ),
            _ => format!(" The {} domain is {}.", r.domain, r.state),
        };
        s.push_str(&sentence);
    }
    match top.len() {
        0 => s.push_str(" There are no open issues."),
        n => {
            s.push_str(&format!(
                " There {} {} open issue{}.",
                if n == 1 { "is" } else { "are" },
                n,
                if n == 1 { "" } else { "s" }
            ));
            for (i, r) in top.iter().enumerate() {
                s.push_str(&format!(
                    " Number {}: {} severity, {} in {}, detected {} ago.",
                    i + 1,
                    r.issue.severity.as_str().to_lowercase(),
                    r.issue.title,
                    r.issue.environment,
                    spoken_duration(r.age_hours)
                ));
            }
        }
    }
    if !resolved.is_empty() {
        s.push_str(&format!(
            " {} issue{} resolved in the last day.",
            resolved.len(),
            if resolved.len() == 1 {
                " was"
            } else {
                "s were"
            }
        ));
    }
    if !actions.is_empty() {
        s.push_str(&format!(
            " {} recommended action{}.",
            actions.len(),
            if actions.len() == 1 { "" } else { "s" }
        ));
    }
    s.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || matches!(c, '.' | ',' | '-' | '\''))
        .collect()
}
