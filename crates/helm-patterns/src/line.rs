//! Reading one log line: JSON lines give their message and level fields; plain lines
//! give their level from the usual markers (`[ERROR]`, `ERROR:`, `level=error`, `WARN`…).

use std::borrow::Cow;

/// Log levels, ordered by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// Parse a level name (`error`, `ERR`, `warning`, `critical`…).
    pub fn parse(s: &str) -> Option<Level> {
        Self::parse_bytes(s.as_bytes())
    }

    /// [`Level::parse`] on bytes (a word of a line not yet known to be UTF-8).
    pub(crate) fn parse_bytes(s: &[u8]) -> Option<Level> {
        const NAMES: [(&str, Level); 16] = [
            ("trace", Level::Trace),
            ("debug", Level::Debug),
            ("info", Level::Info),
            ("information", Level::Info),
            ("notice", Level::Info),
            ("warn", Level::Warn),
            ("warning", Level::Warn),
            ("error", Level::Error),
            ("err", Level::Error),
            ("severe", Level::Error),
            ("fatal", Level::Fatal),
            ("critical", Level::Fatal),
            ("crit", Level::Fatal),
            ("emerg", Level::Fatal),
            ("alert", Level::Fatal),
            ("panic", Level::Fatal),
        ];
        // Bytes, no allocation: this runs on the first words of every line. A non-ASCII
        // character is all non-alphabetic bytes, so it is trimmed as a whole.
        let mut t = s;
        while let [first, rest @ ..] = t
            && !first.is_ascii_alphabetic()
        {
            t = rest;
        }
        while let [rest @ .., last] = t
            && !last.is_ascii_alphabetic()
        {
            t = rest;
        }
        if !(3..=11).contains(&t.len()) {
            return None;
        }
        NAMES
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(t))
            .map(|(_, l)| *l)
    }
}

/// A log line reduced to what the miner needs.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine<'a> {
    pub message: Cow<'a, str>,
    pub level: Option<Level>,
}

const MESSAGE_KEYS: [&str; 6] = ["message", "msg", "@message", "log", "text", "event"];
const LEVEL_KEYS: [&str; 5] = ["level", "severity", "lvl", "levelname", "log.level"];

/// Read a line: a JSON object gives its message field (the whole line if it has none) and
/// level field; a plain line is its own message, with the level found among its first words.
pub fn parse_line(raw: &str) -> LogLine<'_> {
    let trimmed = raw.trim_start();
    if trimmed.starts_with('{')
        && let Ok(serde_json::Value::Object(obj)) =
            serde_json::from_str::<serde_json::Value>(trimmed)
    {
        let level = LEVEL_KEYS
            .iter()
            .find_map(|k| obj.get(*k))
            .and_then(|v| v.as_str())
            .and_then(Level::parse);
        let message = MESSAGE_KEYS
            .iter()
            .find_map(|k| obj.get(*k))
            .and_then(|v| v.as_str());
        return match message {
            Some(m) => LogLine {
                message: Cow::Owned(m.to_string()),
                level,
            },
            None => LogLine {
                message: Cow::Borrowed(raw),
                level,
            },
        };
    }
    LogLine {
        message: Cow::Borrowed(raw),
        level: plain_level(raw),
    }
}

/// The level of a plain line: a level word among its first six words (`[ERROR]`,
/// `ERROR:`, `level=error`, the Lambda runtime's tab-separated `[ERROR]`).
fn plain_level(raw: &str) -> Option<Level> {
    // ASCII whitespace: a level marker is never separated by anything else.
    raw.split_ascii_whitespace()
        .take(6)
        .find_map(|w| word_level(w.as_bytes()))
}

/// The level a word marks, if it is written as one: all capitals (`ERROR`), bracketed or
/// with a colon (`[warn]`, `error:`), or `level=`-prefixed.
#[inline]
pub(crate) fn word_level(word: &[u8]) -> Option<Level> {
    // Level words (bracketed, `level=`-prefixed or not) are short.
    if !(3..=17).contains(&word.len()) {
        return None;
    }
    let w = word
        .strip_prefix(b"level=")
        .or_else(|| word.strip_prefix(b"LEVEL="))
        .unwrap_or(word);
    let marker = |c: &u8| matches!(c, b'[' | b']' | b':' | b'(' | b')' | b'<' | b'>');
    let mut bare = w;
    while let [first, rest @ ..] = bare
        && marker(first)
    {
        bare = rest;
    }
    while let [rest @ .., last] = bare
        && marker(last)
    {
        bare = rest;
    }
    let marked =
        w.len() != word.len() || bare.len() != w.len() || bare.iter().all(u8::is_ascii_uppercase);
    if marked {
        Level::parse_bytes(bare)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_give_message_and_level() {
        let l = parse_line(r#"{"level":"ERROR","message":"db timeout after 30s","requestId":"x"}"#);
        assert_eq!(l.message, "db timeout after 30s");
        assert_eq!(l.level, Some(Level::Error));
        let l = parse_line(r#"{"severity":"warning","msg":"slow"}"#);
        assert_eq!((l.message.as_ref(), l.level), ("slow", Some(Level::Warn)));
        let l = parse_line(r#"{"a": 1}"#);
        assert_eq!(l.message, r#"{"a": 1}"#);
        let l = parse_line("{not json");
        assert_eq!(l.message, "{not json");
    }

    #[test]
    fn plain_lines_give_their_level_marker() {
        assert_eq!(
            parse_line("[ERROR]\t2025-11-03T20:00:00Z\tabc\tboom").level,
            Some(Level::Error)
        );
        assert_eq!(
            parse_line("ERROR: connection refused").level,
            Some(Level::Error)
        );
        assert_eq!(
            parse_line("2025-11-03 12:00:00 WARN pool low").level,
            Some(Level::Warn)
        );
        assert_eq!(
            parse_line("ts=1 level=info msg=ok").level,
            Some(Level::Info)
        );
        assert_eq!(
            parse_line("the error was handled").level,
            None,
            "a lowercase word is not a level"
        );
        assert_eq!(
            parse_line("START RequestId: 1 Version: $LATEST").level,
            None
        );
    }
}
