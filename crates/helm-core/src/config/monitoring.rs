//! `monitoring.toml`: every key of the plugin's template, with its default, its type and
//! where its value came from. The commented template (`template.toml`) is the single source
//! of the defaults; `SCHEMA` says which keys exist and of what type.

use super::Source;
use super::duration;
use crate::error::{Error, Result, line_of};
use crate::resource::ResourceKind;
use crate::suggest;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml_edit::{Document, Item, TableLike};

/// The commented template `helm-cloud init` writes; its values are the defaults.
pub const TEMPLATE: &str = include_str!("template.toml");

/// The type a key's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Str,
    Int,
    /// An integer or a decimal.
    Number,
    Duration,
    StrList,
    /// `"month"` or a duration of whole 5-minute buckets, at least 1h.
    Period,
    /// A list of burn-rate alert pairs: `[{ long = "1h", short = "5m", burn = 14.4 }, …]`.
    BurnPairs,
    /// `"k/n"`: k of the last n.
    Fraction,
    Bool,
}

impl ValueType {
    fn describe(self) -> &'static str {
        match self {
            ValueType::Str => "a string",
            ValueType::Int => "an integer",
            ValueType::Number => "a number",
            ValueType::Duration => "a duration such as \"30s\", \"5m\", \"1h\" or \"7d\"",
            ValueType::StrList => "a list of strings",
            ValueType::Period => "\"month\" or a duration such as \"30d\" (at least 1h)",
            ValueType::BurnPairs => {
                "a list of { long = \"1h\", short = \"5m\", burn = 14.4 } (short under long, burn above 0)"
            }
            ValueType::Fraction => "\"k/n\" with 1 ≤ k ≤ n, such as \"3/6\"",
            ValueType::Bool => "true or false",
        }
    }
}

/// The keys of every section but `slos.*`.
pub const SCHEMA: &[(&str, &[(&str, ValueType)])] = &[
    (
        "helm-cloud",
        &[
            ("domain", ValueType::Str),
            ("environments", ValueType::StrList),
        ],
    ),
    (
        "monitoring",
        &[
            ("health_check_interval", ValueType::Duration),
            ("enabled_checks", ValueType::StrList),
            ("domain_command_timeout", ValueType::Duration),
        ],
    ),
    (
        "remediation",
        &[
            ("auto_remediate", ValueType::StrList),
            ("require_confirmation", ValueType::StrList),
            ("never_auto", ValueType::StrList),
            ("cooldown", ValueType::Duration),
            ("verify_timeout", ValueType::Duration),
        ],
    ),
    (
        "escalation",
        &[
            ("channels", ValueType::StrList),
            ("on_call_schedule", ValueType::Str),
            ("auto_escalate_on", ValueType::StrList),
            ("github_repo", ValueType::Str),
            ("github_api_url", ValueType::Str),
            ("close_on_resolve", ValueType::Bool),
        ],
    ),
    (
        "notifications",
        &[
            ("renotify_after", ValueType::Duration),
            ("retry_attempts", ValueType::Int),
            ("retry_delay", ValueType::Duration),
            ("max_retry_delay", ValueType::Duration),
            ("send_timeout", ValueType::Duration),
            ("report_base_url", ValueType::Str),
        ],
    ),
    (
        "issues",
        &[
            ("active_path", ValueType::Str),
            ("resolved_path", ValueType::Str),
            ("retention_days", ValueType::Int),
        ],
    ),
    (
        "cloudwatch",
        &[
            ("log_retention_days", ValueType::Int),
            ("metric_namespace", ValueType::Str),
        ],
    ),
    (
        "saturation",
        &[
            ("cpu_degraded_percent", ValueType::Number),
            ("cpu_unhealthy_percent", ValueType::Number),
            ("memory_degraded_percent", ValueType::Number),
            ("memory_unhealthy_percent", ValueType::Number),
        ],
    ),
    (
        "slo",
        &[
            ("period", ValueType::Period),
            ("budget_warning_percent", ValueType::Number),
            ("min_requests", ValueType::Int),
            ("page", ValueType::BurnPairs),
            ("ticket", ValueType::BurnPairs),
        ],
    ),
    (
        "watch",
        &[
            ("extended_outage_cycles", ValueType::Int),
            ("repeated_degradation", ValueType::Fraction),
            ("max_remediations_per_cycle", ValueType::Int),
        ],
    ),
    (
        "state",
        &[
            ("backend", ValueType::Str),
            ("bucket", ValueType::Str),
            ("prefix", ValueType::Str),
            ("region", ValueType::Str),
            ("lease", ValueType::Duration),
        ],
    ),
    (
        "cost",
        &[
            ("alert_on_spike_percent", ValueType::Number),
            ("daily_budget_usd", ValueType::Number),
            ("monthly_budget_usd", ValueType::Number),
        ],
    ),
];

/// The keys of `[slos.<type>]` (and of a registry resource's `slo` table): all numbers.
pub const SLO_KEYS: &[&str] = &[
    "error_rate_percent",
    "availability_percent",
    "p95_latency_ms",
    "p95_response_time_ms",
    "connection_time_ms",
    "put_latency_ms",
    "get_latency_ms",
    "iterator_age_ms",
];

/// The keys of a channel table, `[notifications.<name>]`.
pub const CHANNEL_KEYS: &[(&str, ValueType)] = &[
    ("type", ValueType::Str),
    ("url_env", ValueType::Str),
    ("routing_key_env", ValueType::Str),
    ("secret_env", ValueType::Str),
    ("min_severity", ValueType::Str),
    ("environments", ValueType::StrList),
    ("region", ValueType::Str),
];

/// One configuration value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub value: Value,
    pub source: Source,
}

/// The merged monitoring configuration: defaults overlaid with the file.
#[derive(Debug, Clone)]
pub struct Monitoring {
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// Dotted key (`slos.lambda.error_rate_percent`) → value, in template order then file order.
    pub values: BTreeMap<String, Setting>,
}

fn schema_type(section: &str, key: &str) -> Option<ValueType> {
    if section.starts_with("slos.") {
        return SLO_KEYS.contains(&key).then_some(ValueType::Number);
    }
    if section.starts_with("notifications.") {
        return CHANNEL_KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| *t);
    }
    SCHEMA
        .iter()
        .find(|(s, _)| *s == section)?
        .1
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, t)| *t)
}

fn section_keys(section: &str) -> Vec<&'static str> {
    if section.starts_with("slos.") {
        return SLO_KEYS.to_vec();
    }
    if section.starts_with("notifications.") {
        return CHANNEL_KEYS.iter().map(|(k, _)| *k).collect();
    }
    SCHEMA
        .iter()
        .find(|(s, _)| *s == section)
        .map(|(_, keys)| keys.iter().map(|(k, _)| *k).collect())
        .unwrap_or_default()
}

impl Monitoring {
    /// The defaults alone.
    pub fn defaults() -> Monitoring {
        let mut values = BTreeMap::new();
        read_into(
            Path::new("<built-in template>"),
            TEMPLATE,
            &mut values,
            |_| Source::Default,
        )
        .expect("the built-in template is valid");
        Monitoring { file: None, values }
    }

    /// Defaults overlaid with the file at `path` (text already read).
    pub fn parse(path: &Path, text: &str) -> Result<Monitoring> {
        let mut m = Monitoring::defaults();
        read_into(path, text, &mut m.values, |line| Source::File {
            path: path.to_path_buf(),
            line: Some(line),
        })?;
        m.file = Some(path.to_path_buf());
        Ok(m)
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).map(|s| &s.value)
    }

    /// A string setting (None when absent).
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// A numeric setting.
    pub fn number(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }

    /// A list of strings (empty when absent).
    pub fn str_list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A duration setting (validated on read, so a present value always parses).
    pub fn duration(&self, key: &str) -> Option<Duration> {
        self.str(key).and_then(|s| duration::parse(s).ok())
    }

    /// The SLO table of a kind: `[slos.<kind>]` (defaults and file).
    pub fn slos(&self, kind: ResourceKind) -> BTreeMap<String, f64> {
        let prefix = format!("slos.{}.", kind.as_str());
        self.values
            .iter()
            .filter_map(|(k, s)| Some((k.strip_prefix(&prefix)?.to_string(), s.value.as_f64()?)))
            .collect()
    }
}

/// Parse `text` and store every value it sets into `values`, checking each key and type.
fn read_into(
    path: &Path,
    text: &str,
    values: &mut BTreeMap<String, Setting>,
    source: impl Fn(usize) -> Source,
) -> Result<()> {
    let doc = Document::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        Error::invalid(path, line, None, format!("invalid TOML: {}", e.message()))
    })?;
    let line =
        |span: Option<std::ops::Range<usize>>| span.map(|s| line_of(text, s.start)).unwrap_or(1);
    let mut sections: Vec<&str> = SCHEMA.iter().map(|(s, _)| *s).collect();
    sections.push("slos");
    for (name, item) in doc.as_table().iter() {
        let key_line = line(doc.as_table().key(name).and_then(|k| k.span()));
        if name == "slos" {
            let table = as_table(path, item, "slos", key_line)?;
            for (kind_name, sub) in table.iter() {
                let kline = line(table.key(kind_name).and_then(|k| k.span()));
                if ResourceKind::parse(kind_name).map(|k| k.as_str()) != Some(kind_name) {
                    let kinds: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.as_str()).collect();
                    return Err(unknown(
                        path,
                        kline,
                        &format!("slos.{kind_name}"),
                        kind_name,
                        &kinds,
                        "resource type",
                        " in [slos]",
                    ));
                }
                let section = format!("slos.{kind_name}");
                let t = as_table(path, sub, &section, kline)?;
                read_section(path, text, &section, t, values, &source)?;
            }
            continue;
        }
        if name == "notifications" {
            let table = as_table(path, item, "notifications", key_line)?;
            read_notifications(path, text, table, values, &source)?;
            continue;
        }
        if !sections.contains(&name) {
            return Err(unknown(
                path, key_line, name, name, &sections, "section", "",
            ));
        }
        let t = as_table(path, item, name, key_line)?;
        read_section(path, text, name, t, values, &source)?;
        if name == "state" {
            check_state(path, key_line, t)?;
        }
    }
    Ok(())
}

/// `[state]`: a known backend, and for S3 a bucket; a lease long enough to renew.
fn check_state(path: &Path, line: usize, t: &dyn TableLike) -> Result<()> {
    let get = |k: &str| t.get(k).and_then(|i| i.as_str()).unwrap_or_default();
    let fail = |msg: String| Error::invalid(path, Some(line), Some("state".into()), msg);
    match get("backend") {
        "" | "local" => {}
        "s3" if get("bucket").trim().is_empty() => {
            return Err(fail(
                "`backend = \"s3\"` needs `bucket`, the S3 bucket that holds the state".into(),
            ));
        }
        "s3" => {}
        other => {
            return Err(fail(format!(
                "unknown state backend `{other}`: use \"local\" or \"s3\""
            )));
        }
    }
    if let Some(d) = t.get("lease").and_then(|i| i.as_str())
        && duration::parse(d).is_ok_and(|d| d < Duration::from_secs(3))
    {
        return Err(fail(format!(
            "`lease = {d:?}` is too short to renew in time: use at least 3s (the default is 1m)"
        )));
    }
    Ok(())
}

/// `[notifications]`: its own keys, and one `[notifications.<name>]` table per channel,
/// each checked for what its type needs (the secrets are names of environment variables).
fn read_notifications(
    path: &Path,
    text: &str,
    table: &dyn TableLike,
    values: &mut BTreeMap<String, Setting>,
    source: &impl Fn(usize) -> Source,
) -> Result<()> {
    let line = |key: &str| {
        table
            .key(key)
            .and_then(|k| k.span())
            .map(|s| line_of(text, s.start))
            .unwrap_or(1)
    };
    let mut own = toml_edit::Table::new();
    for (key, item) in table.iter() {
        if !item.is_table_like() {
            own.insert(key, item.clone());
            continue;
        }
        let kline = line(key);
        let section = format!("notifications.{key}");
        if !crate::notify::valid_channel_name(key) {
            return Err(Error::invalid(
                path,
                Some(kline),
                Some(section),
                format!(
                    "`{key}` is not a channel name: use lower-case letters, digits, `-` and `_`"
                ),
            ));
        }
        let t = as_table(path, item, &section, kline)?;
        read_section(path, text, &section, t, values, source)?;
        let get = |k: &str| t.get(k).and_then(|i| i.as_str()).map(str::to_string);
        let fail = |msg: String| Error::invalid(path, Some(kline), Some(section.clone()), msg);
        let kind = get("type").ok_or_else(|| {
            fail(format!(
                "[{section}] needs `type = \"slack\"`, `\"pagerduty\"` or `\"webhook\"`"
            ))
        })?;
        let needs: &[&str] = match kind.as_str() {
            "slack" | "webhook" => &["url_env"],
            "pagerduty" => &["routing_key_env"],
            other => {
                return Err(fail(format!(
                    "unknown channel type `{other}`: use slack, pagerduty or webhook"
                )));
            }
        };
        for k in needs {
            if get(k).is_none() {
                return Err(fail(format!(
                    "a {kind} channel needs `{k}`, the name of the environment variable that holds its secret"
                )));
            }
        }
        for k in ["url_env", "routing_key_env", "secret_env"] {
            if let Some(v) = get(k)
                && !crate::notify::valid_env_name(&v)
            {
                return Err(fail(format!(
                    "`{k} = {v:?}` is not an environment variable name (the secret itself never goes in this file)"
                )));
            }
        }
        if let Some(sev) = get("min_severity")
            && crate::issues::Severity::parse(&sev).is_none()
        {
            return Err(fail(format!(
                "`min_severity = {sev:?}`: use CRITICAL, HIGH, MEDIUM or LOW"
            )));
        }
        if let Some(r) = get("region")
            && !(kind == "pagerduty" && ["us", "eu"].contains(&r.as_str()))
        {
            return Err(fail(format!(
                "`region = {r:?}`: only a pagerduty channel has a region, \"us\" or \"eu\""
            )));
        }
    }
    read_section(path, text, "notifications", &own, values, source)
}

fn as_table<'a>(path: &Path, item: &'a Item, name: &str, line: usize) -> Result<&'a dyn TableLike> {
    item.as_table_like().ok_or_else(|| {
        Error::invalid(
            path,
            Some(line),
            Some(name.into()),
            format!("`{name}` must be a table ([{name}])"),
        )
    })
}

fn unknown(
    path: &Path,
    line: usize,
    field: &str,
    word: &str,
    candidates: &[&str],
    what: &str,
    within: &str,
) -> Error {
    let err = Error::invalid(
        path,
        Some(line),
        Some(field.into()),
        format!("unknown {what} `{word}`{within}"),
    );
    match suggest::nearest(word, candidates.iter().copied()) {
        Some(near) => err.with_hint(format!("did you mean `{near}`?")),
        None => err.with_hint(format!("valid: {}", candidates.join(", "))),
    }
}

fn read_section(
    path: &Path,
    text: &str,
    section: &str,
    table: &dyn TableLike,
    values: &mut BTreeMap<String, Setting>,
    source: &impl Fn(usize) -> Source,
) -> Result<()> {
    for (key, item) in table.iter() {
        let span = table.get_key_value(key).and_then(|(k, _)| k.span());
        let kline = span.map(|s| line_of(text, s.start)).unwrap_or(1);
        let field = format!("{section}.{key}");
        let Some(ty) = schema_type(section, key) else {
            let keys = section_keys(section);
            return Err(unknown(
                path,
                kline,
                &field,
                key,
                &keys,
                "key",
                &format!(" in [{section}]"),
            ));
        };
        let value = item.as_value().ok_or_else(|| {
            Error::invalid(
                path,
                Some(kline),
                Some(field.clone()),
                format!("`{key}` must be {}", ty.describe()),
            )
        })?;
        let json = convert(value, ty).map_err(|got| {
            Error::invalid(
                path,
                Some(kline),
                Some(field.clone()),
                format!("`{key}` must be {}, found {got}", ty.describe()),
            )
        })?;
        values.insert(
            field,
            Setting {
                value: json,
                source: source(kline),
            },
        );
    }
    Ok(())
}

/// Check a TOML value against its type and turn it into JSON. Err carries what was found.
fn convert(value: &toml_edit::Value, ty: ValueType) -> std::result::Result<Value, String> {
    use toml_edit::Value as T;
    let found = |v: &T| match v {
        T::String(s) => format!("the string {:?}", s.value()),
        T::Integer(i) => format!("the integer {}", i.value()),
        T::Float(f) => format!("the number {}", f.value()),
        T::Boolean(b) => format!("the boolean {}", b.value()),
        T::Datetime(_) => "a date".to_string(),
        T::Array(_) => "a list".to_string(),
        T::InlineTable(_) => "a table".to_string(),
    };
    match (ty, value) {
        (ValueType::Str, T::String(s)) => Ok(Value::String(s.value().clone())),
        (ValueType::Bool, T::Boolean(b)) => Ok(Value::Bool(*b.value())),
        (ValueType::Int, T::Integer(i)) if *i.value() >= 0 => Ok(Value::from(*i.value())),
        (ValueType::Number, T::Integer(i)) => Ok(Value::from(*i.value())),
        (ValueType::Number, T::Float(f)) if f.value().is_finite() => Ok(Value::from(*f.value())),
        (ValueType::Duration, T::String(s)) => {
            duration::parse(s.value()).map_err(|e| format!("a bad duration ({e})"))?;
            Ok(Value::String(s.value().clone()))
        }
        (ValueType::StrList, T::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(|s| Value::String(s.to_string()))
                    .ok_or_else(|| format!("a list holding {}", found(v)))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Value::Array),
        (ValueType::Period, T::String(s)) => {
            crate::slo::budget::Period::parse(s.value())
                .map_err(|e| format!("a bad period ({e})"))?;
            Ok(Value::String(s.value().clone()))
        }
        (ValueType::Fraction, T::String(s)) => {
            fraction(s.value()).ok_or_else(|| format!("the string {:?}", s.value()))?;
            Ok(Value::String(s.value().clone()))
        }
        (ValueType::BurnPairs, T::Array(a)) => a
            .iter()
            .map(|v| burn_pair(v).map_err(|e| format!("a list holding {e}")))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Value::Array),
        (_, v) => Err(found(v)),
    }
}

/// `"k/n"` with 1 ≤ k ≤ n.
pub fn fraction(s: &str) -> Option<(u32, u32)> {
    let (k, n) = s.split_once('/')?;
    let (k, n): (u32, u32) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (k >= 1 && k <= n).then_some((k, n))
}

/// One `{ long, short, burn }` table, checked: durations of whole 5-minute buckets, short
/// under long, burn above 0.
fn burn_pair(v: &toml_edit::Value) -> std::result::Result<Value, String> {
    let t = v.as_inline_table().ok_or("something that is not a table")?;
    for (k, _) in t.iter() {
        if !["long", "short", "burn"].contains(&k) {
            return Err(format!("the unknown key `{k}`"));
        }
    }
    let window = |k: &str| -> std::result::Result<(String, u64), String> {
        let s = t
            .get(k)
            .and_then(|x| x.as_str())
            .ok_or(format!("a table without `{k}` as a duration"))?;
        let d = duration::parse(s).map_err(|e| format!("a bad `{k}` ({e})"))?;
        if d.as_secs() == 0 || d.as_secs() % 300 != 0 {
            return Err(format!("`{k} = {s:?}`, not whole 5-minute buckets"));
        }
        Ok((s.to_string(), d.as_secs()))
    };
    let (long, long_s) = window("long")?;
    let (short, short_s) = window("short")?;
    if short_s >= long_s {
        return Err(format!("short {short:?} not under long {long:?}"));
    }
    let burn = t
        .get("burn")
        .and_then(|b| b.as_float().or(b.as_integer().map(|i| i as f64)))
        .filter(|b| b.is_finite() && *b > 0.0)
        .ok_or("a table without a `burn` above 0")?;
    Ok(serde_json::json!({"long": long, "short": short, "burn": burn}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Property: the template with random bytes deleted, duplicated or replaced never
    /// panics; it is read, or refused with the file and a line inside it.
    #[test]
    fn a_mangled_file_is_read_or_refused_with_a_line_never_a_panic() {
        use crate::testing::{Rng, cases};
        let bytes = TEMPLATE.as_bytes();
        let noise = b"[]=\"'#\n.-_a9{},\x00\xff";
        for seed in 1..=cases() * 3 {
            let mut rng = Rng::new(seed);
            let mut b = bytes.to_vec();
            for _ in 0..rng.below(4) + 1 {
                let at = rng.below(b.len() as u64) as usize;
                match rng.below(3) {
                    0 => {
                        b.remove(at);
                    }
                    1 => b.insert(at, b[at]),
                    _ => b[at] = noise[rng.below(noise.len() as u64) as usize],
                }
            }
            let text = String::from_utf8_lossy(&b);
            if let Err(e) = parse(&text) {
                let said = e.to_string();
                assert!(said.contains("monitoring.toml"), "seed {seed}: {said}");
                let lines = text.lines().count().max(1);
                if let Some(l) = said
                    .split("monitoring.toml:")
                    .nth(1)
                    .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    assert!(
                        l >= 1 && l <= lines + 1,
                        "seed {seed}: line {l} of {lines}: {said}"
                    );
                }
            }
        }
    }

    fn parse(text: &str) -> Result<Monitoring> {
        Monitoring::parse(Path::new("monitoring.toml"), text)
    }

    #[test]
    fn defaults_hold_every_template_key_with_its_value() {
        let m = Monitoring::defaults();
        assert_eq!(m.str("helm-cloud.domain"), Some("infrastructure"));
        assert_eq!(m.str_list("helm-cloud.environments"), vec!["test", "prod"]);
        assert_eq!(
            m.duration("monitoring.health_check_interval"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(m.str_list("monitoring.enabled_checks").len(), 4);
        assert_eq!(m.number("slos.lambda.error_rate_percent"), Some(0.1));
        assert_eq!(m.number("slos.lambda.p95_latency_ms"), Some(200.0));
        assert_eq!(m.number("slos.lambda.availability_percent"), Some(99.9));
        assert_eq!(m.number("slos.rds.error_rate_percent"), Some(0.01));
        assert_eq!(m.number("slos.rds.connection_time_ms"), Some(100.0));
        assert_eq!(m.number("slos.rds.availability_percent"), Some(99.95));
        assert_eq!(m.number("slos.ecs.error_rate_percent"), Some(0.1));
        assert_eq!(m.number("slos.ecs.p95_response_time_ms"), Some(500.0));
        assert_eq!(m.number("slos.ecs.availability_percent"), Some(99.9));
        assert_eq!(m.number("slos.s3.error_rate_percent"), Some(0.01));
        assert_eq!(m.number("slos.s3.put_latency_ms"), Some(100.0));
        assert_eq!(m.number("slos.s3.get_latency_ms"), Some(50.0));
        assert_eq!(
            m.str_list("remediation.auto_remediate"),
            vec!["restart_lambda", "clear_cache", "invalidate_cloudfront"]
        );
        assert_eq!(
            m.str_list("remediation.require_confirmation"),
            vec![
                "scale_resources",
                "increase_capacity",
                "modify_autoscaling",
                "restart_ecs_service"
            ]
        );
        assert_eq!(
            m.str_list("remediation.never_auto"),
            vec![
                "delete_resources",
                "modify_security_groups",
                "change_iam_policies",
                "terminate_instances"
            ]
        );
        assert_eq!(m.str_list("escalation.channels"), vec!["slack-ops"]);
        assert_eq!(
            m.str("escalation.on_call_schedule"),
            Some("pagerduty-infra-oncall")
        );
        assert_eq!(m.str_list("escalation.auto_escalate_on").len(), 3);
        assert_eq!(m.str("issues.active_path"), Some("helm/issues/active/"));
        assert_eq!(m.str("issues.resolved_path"), Some("helm/issues/resolved/"));
        assert_eq!(m.number("issues.retention_days"), Some(90.0));
        assert_eq!(m.number("cloudwatch.log_retention_days"), Some(30.0));
        assert_eq!(
            m.str("cloudwatch.metric_namespace"),
            Some("Fractary/Infrastructure")
        );
        assert_eq!(m.number("cost.alert_on_spike_percent"), Some(20.0));
        assert_eq!(m.number("cost.daily_budget_usd"), Some(100.0));
        assert_eq!(m.number("cost.monthly_budget_usd"), Some(3000.0));
        assert!(m.values.values().all(|s| s.source == Source::Default));
    }

    #[test]
    fn every_schema_key_has_a_default_in_the_template() {
        let m = Monitoring::defaults();
        for (section, keys) in SCHEMA {
            for (key, _) in *keys {
                assert!(
                    m.values.contains_key(&format!("{section}.{key}")),
                    "{section}.{key} missing from template"
                );
            }
        }
    }

    #[test]
    fn file_values_override_defaults_and_record_their_line() {
        let m = parse("[cost]\n\ndaily_budget_usd = 250.5\n[slos.dynamodb]\np95_latency_ms = 20\n")
            .unwrap();
        assert_eq!(m.number("cost.daily_budget_usd"), Some(250.5));
        assert_eq!(m.number("cost.monthly_budget_usd"), Some(3000.0));
        let s = &m.values["cost.daily_budget_usd"];
        assert_eq!(
            s.source,
            Source::File {
                path: "monitoring.toml".into(),
                line: Some(3)
            }
        );
        assert_eq!(
            m.slos(ResourceKind::DynamoDb).get("p95_latency_ms"),
            Some(&20.0)
        );
        assert_eq!(
            m.slos(ResourceKind::Lambda).get("error_rate_percent"),
            Some(&0.1)
        );
    }

    fn err(text: &str) -> (Option<usize>, Option<String>, String, Option<String>) {
        match parse(text).unwrap_err() {
            Error::InvalidFile {
                line,
                field,
                message,
                hint,
                ..
            } => (line, field, message, hint),
            other => panic!("expected an invalid-file error, got {other:?}"),
        }
    }

    #[test]
    fn misspelt_key_names_line_and_nearest_valid_key() {
        let (line, field, msg, hint) =
            err("[slos.lambda]\nerror_rate_percent = 1\neror_rate_percnt = 0.5\n");
        assert_eq!(line, Some(3));
        assert_eq!(field.as_deref(), Some("slos.lambda.eror_rate_percnt"));
        assert!(msg.contains("unknown key"), "{msg}");
        assert_eq!(hint.as_deref(), Some("did you mean `error_rate_percent`?"));
    }

    #[test]
    fn misspelt_section_and_slo_kind_are_suggested() {
        let (line, _, _, hint) = err("\n[remediaton]\nnever_auto = []\n");
        assert_eq!(
            (line, hint.as_deref()),
            (Some(2), Some("did you mean `remediation`?"))
        );
        let (line, _, _, hint) = err("[slos.lamda]\np95_latency_ms = 1\n");
        assert_eq!(
            (line, hint.as_deref()),
            (Some(1), Some("did you mean `lambda`?"))
        );
    }

    #[test]
    fn wrong_types_are_named() {
        let (line, field, msg, _) = err("[cost]\ndaily_budget_usd = \"lots\"\n");
        assert_eq!(
            (line, field.as_deref()),
            (Some(2), Some("cost.daily_budget_usd"))
        );
        assert!(
            msg.contains("must be a number") && msg.contains("\"lots\""),
            "{msg}"
        );
        let (_, _, msg, _) = err("[issues]\nretention_days = 1.5\n");
        assert!(msg.contains("integer"), "{msg}");
        let (_, _, msg, _) = err("[remediation]\nnever_auto = [\"a\", 3]\n");
        assert!(msg.contains("list of strings"), "{msg}");
        let (_, _, msg, _) = err("[helm-cloud]\ndomain = [\"x\"]\n");
        assert!(msg.contains("must be a string"), "{msg}");
        let (_, _, msg, _) = err("monitoring = 3\n");
        assert!(msg.contains("must be a table"), "{msg}");
    }

    #[test]
    fn bad_duration_is_an_error_with_line() {
        let (line, field, msg, _) =
            err("[monitoring]\nenabled_checks = []\nhealth_check_interval = \"5 minutes\"\n");
        assert_eq!(
            (line, field.as_deref()),
            (Some(3), Some("monitoring.health_check_interval"))
        );
        assert!(msg.contains("duration"), "{msg}");
    }

    #[test]
    fn broken_toml_is_an_error_with_line() {
        let (line, _, msg, _) = err("[cost]\ndaily_budget_usd = 1\n[oops\n");
        assert_eq!(line, Some(3));
        assert!(msg.contains("invalid TOML"), "{msg}");
    }

    #[test]
    fn the_state_section_names_a_known_backend_and_s3_needs_a_bucket() {
        let d = Monitoring::defaults().settings().state;
        assert_eq!((d.s3, d.lease), (None, Duration::from_secs(60)));
        let s3 = parse("[state]\nbackend = \"s3\"\nbucket = \"team-state\"\nlease = \"30s\"\n")
            .unwrap()
            .settings()
            .state;
        let b = s3.s3.expect("s3");
        assert_eq!(
            (b.bucket.as_str(), b.prefix.as_str(), b.region),
            ("team-state", "helm-cloud", None)
        );
        assert_eq!(s3.lease, Duration::from_secs(30));
        for (text, at, says) in [
            ("[state]\nbackend = \"s3\"\n", 1, "needs `bucket`"),
            (
                "[state]\nbackend = \"dynamo\"\n",
                1,
                "unknown state backend `dynamo`",
            ),
            ("[state]\nlease = \"1s\"\n", 1, "too short"),
            ("[state]\nbucket = 3\n", 2, "a string"),
        ] {
            let (line, key, msg, _) = err(text);
            assert_eq!(line, Some(at), "{text}");
            assert!(key.is_some_and(|k| k.starts_with("state")), "{text}");
            assert!(msg.contains(says), "{text}: {msg}");
        }
    }

    #[test]
    fn inline_tables_are_read_too() {
        let m = parse("slos = { lambda = { p95_latency_ms = 300 } }\n").unwrap();
        assert_eq!(m.number("slos.lambda.p95_latency_ms"), Some(300.0));
    }

    #[test]
    fn slo_and_watch_values_are_checked_where_they_are_written() {
        for (text, key, says) in [
            ("[slo]\nperiod = \"10m\"\n", "slo.period", "a bad period"),
            (
                "[slo]\nperiod = 30\n",
                "slo.period",
                "\"month\" or a duration",
            ),
            (
                "[slo]\npage = [{ long = \"5m\", short = \"1h\", burn = 14.4 }]\n",
                "slo.page",
                "not under long",
            ),
            (
                "[slo]\npage = [{ long = \"1h\", short = \"5m\", burn = 0 }]\n",
                "slo.page",
                "burn` above 0",
            ),
            (
                "[slo]\nticket = [{ long = \"1d\", short = \"2h\", burn = 3, brun = 1 }]\n",
                "slo.ticket",
                "unknown key `brun`",
            ),
            (
                "[slo]\nticket = [{ long = \"1d\", short = \"90s\", burn = 3 }]\n",
                "slo.ticket",
                "whole 5-minute buckets",
            ),
            (
                "[watch]\nrepeated_degradation = \"7/3\"\n",
                "watch.repeated_degradation",
                "k/n",
            ),
        ] {
            let (line, field, message, _) = err(text);
            assert_eq!(field.as_deref(), Some(key), "{text}");
            assert_eq!(line, Some(2), "{text}");
            assert!(message.contains(says), "{text}: {message}");
        }
        let m = parse("[slo]\nperiod = \"month\"\npage = []\n").unwrap();
        let s = m.settings().slo;
        assert_eq!(s.period, crate::slo::budget::Period::CalendarMonth);
        assert!(s.page.is_empty(), "an empty list turns paging off");
        assert_eq!(s.ticket.len(), 2, "untouched: the template's");
    }
}
