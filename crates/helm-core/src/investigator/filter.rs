//! CloudWatch Logs filter patterns, applied here so results are exact whatever the server
//! did (the emulator ignores much of the syntax). Supported: terms (all must appear, case
//! sensitive as in CloudWatch), "quoted phrases", `?A ?B` (any), `-term` (none), and JSON
//! patterns `{ $.level = "ERROR" && $.latency > 500 }` with `=`, `!=`, `<`, `<=`, `>`,
//! `>=`, `*` wildcards in strings, `&&`, `||`, parentheses, `EXISTS`, `NOT EXISTS`,
//! `IS NULL`, `IS TRUE`, `IS FALSE`.

use serde_json::Value;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Matches everything (an empty pattern).
    All,
    Terms {
        all: Vec<String>,
        any: Vec<String>,
        none: Vec<String>,
    },
    Json(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp {
        path: Vec<PathPart>,
        op: Op,
        value: Literal,
    },
    Exists {
        path: Vec<PathPart>,
        negated: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum PathPart {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// Why a pattern could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("filter pattern {pattern:?}: {reason}")]
pub struct FilterError {
    pub pattern: String,
    pub reason: String,
}

impl Filter {
    pub fn parse(pattern: &str) -> Result<Filter, FilterError> {
        let p = pattern.trim();
        let fail = |reason: &str| FilterError {
            pattern: pattern.to_string(),
            reason: reason.to_string(),
        };
        if p.is_empty() {
            return Ok(Filter::All);
        }
        if p.starts_with('{') {
            let inner = p
                .strip_prefix('{')
                .and_then(|s| s.strip_suffix('}'))
                .ok_or_else(|| fail("a JSON pattern must end with }"))?;
            let tokens = lex(inner).map_err(|r| fail(&r))?;
            let mut parser = Parser { tokens, pos: 0 };
            let expr = parser.or().map_err(|r| fail(&r))?;
            if parser.pos != parser.tokens.len() {
                return Err(fail("unexpected text after the condition"));
            }
            return Ok(Filter::Json(expr));
        }
        if p.starts_with('[') {
            return Err(fail(
                "space-delimited patterns ([a, b, ...]) are not supported; use terms or a JSON pattern",
            ));
        }
        let (mut all, mut any, mut none) = (Vec::new(), Vec::new(), Vec::new());
        for word in split_terms(p).map_err(|r| fail(&r))? {
            if let Some(w) = word.strip_prefix('?') {
                any.push(unquote(w));
            } else if let Some(w) = word.strip_prefix('-').filter(|w| !w.is_empty()) {
                none.push(unquote(w));
            } else {
                all.push(unquote(&word));
            }
        }
        Ok(Filter::Terms { all, any, none })
    }

    /// The part of the pattern every server applies the same way (plain terms and quoted
    /// phrases, all required), to send with FilterLogEvents. None: filter here only.
    pub fn server_side(&self) -> Option<String> {
        match self {
            Filter::Terms { all, .. } if !all.is_empty() => Some(
                all.iter()
                    .map(|t| {
                        if t.contains(' ') {
                            format!("\"{t}\"")
                        } else {
                            t.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        }
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Terms { all, any, none } => {
                all.iter().all(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                    && !none.iter().any(|t| message.contains(t.as_str()))
            }
            Filter::Json(expr) => match serde_json::from_str::<Value>(message.trim()) {
                Ok(v) => eval(expr, &v),
                Err(_) => false,
            },
        }
    }
}

fn unquote(w: &str) -> String {
    w.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(w)
        .to_string()
}

/// Split on spaces, keeping "quoted phrases" (with a `?` or `-` prefix) whole.
fn split_terms(p: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in p.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("a quoted phrase is not closed".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Path(Vec<PathPart>),
    Op(Op),
    And,
    Or,
    Open,
    Close,
    Lit(Literal),
    Exists,
    Not,
    Is,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::Open);
            i += 1;
        } else if c == ')' {
            out.push(Tok::Close);
            i += 1;
        } else if c == '&' && chars.get(i + 1) == Some(&'&') {
            out.push(Tok::And);
            i += 2;
        } else if c == '|' && chars.get(i + 1) == Some(&'|') {
            out.push(Tok::Or);
            i += 2;
        } else if "=!<>".contains(c) {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (op, n) = match two.as_str() {
                "!=" => (Op::Ne, 2),
                "<=" => (Op::Le, 2),
                ">=" => (Op::Ge, 2),
                "==" => (Op::Eq, 2),
                _ => match c {
                    '=' => (Op::Eq, 1),
                    '<' => (Op::Lt, 1),
                    '>' => (Op::Gt, 1),
                    _ => return Err(format!("unexpected {c:?}")),
                },
            };
            out.push(Tok::Op(op));
            i += n;
        } else if c == '"' {
            let mut j = i + 1;
            let mut v = String::new();
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' && j + 1 < chars.len() {
                    j += 1;
                }
                v.push(chars[j]);
                j += 1;
            }
            if j >= chars.len() {
                return Err("a string is not closed".into());
            }
            out.push(Tok::Lit(Literal::Str(v)));
            i = j + 1;
        } else if c == '$' {
            let mut j = i + 1;
            let mut parts = Vec::new();
            while j < chars.len() && (chars[j] == '.' || chars[j] == '[') {
                if chars[j] == '.' {
                    let start = j + 1;
                    j = start;
                    while j < chars.len()
                        && (chars[j].is_alphanumeric()
                            || chars[j] == '_'
                            || chars[j] == '-'
                            || chars[j] == '@')
                    {
                        j += 1;
                    }
                    if j == start {
                        return Err("a selector needs a name after the dot".into());
                    }
                    parts.push(PathPart::Key(chars[start..j].iter().collect()));
                } else {
                    let close = chars[j..]
                        .iter()
                        .position(|&c| c == ']')
                        .ok_or("a [ is not closed")?
                        + j;
                    let n: String = chars[j + 1..close].iter().collect();
                    parts.push(PathPart::Index(
                        n.trim()
                            .parse()
                            .map_err(|_| format!("{n:?} is not an index"))?,
                    ));
                    j = close + 1;
                }
            }
            if parts.is_empty() {
                return Err("a selector looks like $.field".into());
            }
            out.push(Tok::Path(parts));
            i = j;
        } else {
            let mut j = i;
            while j < chars.len() && !chars[j].is_whitespace() && !"()=!<>&|".contains(chars[j]) {
                j += 1;
            }
            if j == i {
                // A lone `&` or `|` (the operators are `&&` and `||`). Without this the
                // lexer stood still and pushed empty words until memory ran out.
                return Err(format!("unexpected {c:?} (write && or ||)"));
            }
            let word: String = chars[i..j].iter().collect();
            out.push(match word.to_ascii_uppercase().as_str() {
                "EXISTS" => Tok::Exists,
                "NOT" => Tok::Not,
                "IS" => Tok::Is,
                "TRUE" => Tok::Lit(Literal::Bool(true)),
                "FALSE" => Tok::Lit(Literal::Bool(false)),
                "NULL" => Tok::Lit(Literal::Null),
                _ => match word.parse::<f64>() {
                    Ok(n) => Tok::Lit(Literal::Num(n)),
                    Err(_) => Tok::Lit(Literal::Str(word)),
                },
            });
            i = j;
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(e),
                    _ => Err("a ( is not closed".into()),
                }
            }
            Some(Tok::Path(path)) => match self.next() {
                Some(Tok::Op(op)) => match self.next() {
                    Some(Tok::Lit(value)) => Ok(Expr::Cmp { path, op, value }),
                    _ => Err("a comparison needs a value".into()),
                },
                Some(Tok::Exists) => Ok(Expr::Exists {
                    path,
                    negated: false,
                }),
                Some(Tok::Not) if self.peek() == Some(&Tok::Exists) => {
                    self.pos += 1;
                    Ok(Expr::Exists {
                        path,
                        negated: true,
                    })
                }
                Some(Tok::Is) => match self.next() {
                    Some(Tok::Lit(value @ (Literal::Null | Literal::Bool(_)))) => Ok(Expr::Cmp {
                        path,
                        op: Op::Eq,
                        value,
                    }),
                    _ => Err("IS takes NULL, TRUE or FALSE".into()),
                },
                _ => Err("a selector needs an operator (=, !=, <, >, EXISTS…)".into()),
            },
            _ => Err("expected a condition such as $.level = \"ERROR\"".into()),
        }
    }
}

fn lookup<'a>(v: &'a Value, path: &[PathPart]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = match p {
            PathPart::Key(k) => cur.get(k)?,
            PathPart::Index(i) => cur.get(*i)?,
        };
    }
    Some(cur)
}

fn wildcard_match(pattern: &str, text: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == text;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !rest.starts_with(part) {
                return false;
            }
            rest = &rest[part.len()..];
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

fn eval(e: &Expr, v: &Value) -> bool {
    match e {
        Expr::And(a, b) => eval(a, v) && eval(b, v),
        Expr::Or(a, b) => eval(a, v) || eval(b, v),
        Expr::Exists { path, negated } => lookup(v, path).is_some() != *negated,
        Expr::Cmp { path, op, value } => {
            let found = lookup(v, path);
            match (value, found) {
                (Literal::Null, f) => (f.is_none_or(Value::is_null)) == (*op == Op::Eq),
                (_, None) => false,
                (Literal::Bool(b), Some(x)) => (x.as_bool() == Some(*b)) == (*op == Op::Eq),
                (Literal::Num(n), Some(x)) => {
                    let Some(x) = x
                        .as_f64()
                        .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
                    else {
                        return false;
                    };
                    match op {
                        Op::Eq => x == *n,
                        Op::Ne => x != *n,
                        Op::Lt => x < *n,
                        Op::Le => x <= *n,
                        Op::Gt => x > *n,
                        Op::Ge => x >= *n,
                    }
                }
                (Literal::Str(s), Some(x)) => {
                    let text = match x {
                        Value::String(t) => t.clone(),
                        other => other.to_string(),
                    };
                    match op {
                        Op::Eq => wildcard_match(s, &text),
                        Op::Ne => !wildcard_match(s, &text),
                        _ => false,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_ampersand_or_bar_is_refused_not_looped_on() {
        for p in ["{ $.a = 1 & $.b = 2 }", "{ $.a = 1 | $.b = 2 }", "{ & }"] {
            let e = Filter::parse(p).unwrap_err();
            assert!(e.reason.contains("&& or ||"), "{p}: {e}");
        }
    }

    /// Property: no pattern (random runs of the syntax's own characters) panics in parsing,
    /// in its server-side form or in matching a random message.
    #[test]
    fn no_pattern_or_message_panics() {
        use crate::testing::{Rng, cases};
        let alphabet: Vec<char> = "{}$.=!<>\"?-&|()* \\abcERROR0123.5e%[]é\t"
            .chars()
            .collect();
        let pick = |rng: &mut Rng, n: u64| -> String {
            (0..rng.below(n))
                .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                .collect()
        };
        for seed in 1..=cases() * 10 {
            let mut rng = Rng::new(seed);
            let mut pattern = pick(&mut rng, 24);
            if rng.below(2) == 0 {
                pattern = format!("{{ $.{} }}", pattern);
            }
            let message = pick(&mut rng, 40);
            if let Ok(f) = Filter::parse(&pattern) {
                let _ = f.server_side();
                let _ = f.matches(&message);
                let _ = f.matches("{\"level\": \"ERROR\", \"latency\": 1e308}");
            }
        }
    }

    fn m(p: &str, line: &str) -> bool {
        Filter::parse(p).unwrap().matches(line)
    }

    #[test]
    fn terms_must_all_appear_case_sensitively() {
        assert!(m("ERROR timeout", "ERROR db timeout"));
        assert!(!m("ERROR timeout", "ERROR db slow"));
        assert!(!m("ERROR", "error lowercase"));
        assert!(m("", "anything"));
    }

    #[test]
    fn quoted_phrases_any_and_none() {
        assert!(m(
            "\"Task timed out\"",
            "2025 Task timed out after 3.00 seconds"
        ));
        assert!(!m("\"Task timed out\"", "Task has timed out"));
        assert!(m("?ERROR ?WARN", "WARN pool low"));
        assert!(m("?ERROR ?WARN", "ERROR boom"));
        assert!(!m("?ERROR ?WARN", "INFO fine"));
        assert!(m("ERROR -Exiting", "ERROR boom"));
        assert!(!m("ERROR -Exiting", "ERROR Exiting now"));
        assert!(m("?\"timed out\" ?refused", "connection refused"));
    }

    #[test]
    fn json_patterns() {
        let line = r#"{"level":"ERROR","latency":750,"user":{"id":"u1"},"tags":["a","b"],"ok":false,"gone":null}"#;
        assert!(m(r#"{ $.level = "ERROR" }"#, line));
        assert!(!m(r#"{ $.level = "INFO" }"#, line));
        assert!(m(r#"{ $.level = "ERR*" }"#, line));
        assert!(m("{ $.latency > 500 }", line));
        assert!(!m("{ $.latency < 500 }", line));
        assert!(m(r#"{ $.level = "ERROR" && $.latency >= 750 }"#, line));
        assert!(m(r#"{ $.level = "INFO" || $.user.id = "u1" }"#, line));
        assert!(m(
            r#"{ ($.level = "INFO" || $.latency > 1) && $.tags[1] = "b" }"#,
            line
        ));
        assert!(m("{ $.user.id EXISTS }", line));
        assert!(m("{ $.nothing NOT EXISTS }", line));
        assert!(m("{ $.ok IS FALSE }", line));
        assert!(m("{ $.gone IS NULL }", line));
        assert!(m(r#"{ $.level != "INFO" }"#, line));
        assert!(!m(r#"{ $.level = "ERROR" }"#, "ERROR not json"));
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for bad in [
            r#"{ $.level = "ERROR" "#,
            "{ level = 1 }",
            "{ $.a }",
            "\"open",
            "[ip, user]",
            "{ $.a = }",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_plain_terms_go_to_the_server() {
        assert_eq!(
            Filter::parse("ERROR \"timed out\"")
                .unwrap()
                .server_side()
                .as_deref(),
            Some("ERROR \"timed out\"")
        );
        assert_eq!(
            Filter::parse("ERROR -Exiting")
                .unwrap()
                .server_side()
                .as_deref(),
            Some("ERROR")
        );
        assert_eq!(Filter::parse("?A ?B").unwrap().server_side(), None);
        assert_eq!(Filter::parse("{ $.a = 1 }").unwrap().server_side(), None);
    }
}
