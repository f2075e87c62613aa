//! The root-cause rule library: each category has signatures taken from real AWS logs.
//! A line is given to the first category whose signature it contains (the list runs from
//! the most specific to the most general); the category with the most error-line evidence
//! wins, the earliest onset breaking ties.

use crate::responder::catalogue::ActionId;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Timeout,
    OutOfMemory,
    Throttling,
    DatabaseConnection,
    DependencyUnreachable,
    PermissionDenied,
    Configuration,
    CodeException,
    ColdStart,
    Unknown,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Timeout => "timeout",
            Category::OutOfMemory => "out_of_memory",
            Category::Throttling => "throttling",
            Category::DatabaseConnection => "database_connection",
            Category::DependencyUnreachable => "dependency_unreachable",
            Category::PermissionDenied => "permission_denied",
            Category::Configuration => "configuration",
            Category::CodeException => "code_exception",
            Category::ColdStart => "cold_start",
            Category::Unknown => "unknown",
        }
    }

    /// What it means, in one sentence for the report.
    pub fn summary(self) -> &'static str {
        match self {
            Category::Timeout => "requests run past their time limit",
            Category::OutOfMemory => "the runtime runs out of memory and is killed",
            Category::Throttling => "calls are throttled by AWS or a downstream API",
            Category::DatabaseConnection => "the database refuses or runs out of connections",
            Category::DependencyUnreachable => {
                "a dependency cannot be reached (refused, reset or not resolved)"
            }
            Category::PermissionDenied => "calls are denied by IAM or the target",
            Category::Configuration => {
                "configuration is missing or wrong (environment variables, handler, modules)"
            }
            Category::CodeException => "the code raises an unhandled exception",
            Category::ColdStart => "cold starts (new execution environments) slow requests down",
            Category::Unknown => "no known signature explains the errors",
        }
    }

    /// What to do about it; the remediate action when one fits.
    pub fn recommendation(self) -> (&'static str, Option<ActionId>) {
        match self {
            Category::Timeout => (
                "Check the slow dependency named in the evidence; raise the timeout only if the work is legitimately longer",
                Some(ActionId::RestartLambda),
            ),
            Category::OutOfMemory => (
                "Raise the memory size or fix the leak; restarting clears leaked state for a while",
                Some(ActionId::RestartLambda),
            ),
            Category::Throttling => (
                "Add retries with backoff and jitter, raise the limit (reserved concurrency, service quota) or spread the load",
                Some(ActionId::IncreaseCapacity),
            ),
            Category::DatabaseConnection => (
                "Reuse connections (a pool outside the handler, RDS Proxy) and check the database's max_connections",
                None,
            ),
            Category::DependencyUnreachable => (
                "Check the dependency's health, DNS, security groups and VPC routes",
                None,
            ),
            Category::PermissionDenied => (
                "Grant the missing IAM permission named in the evidence to the execution role",
                None,
            ),
            Category::Configuration => (
                "Set the missing configuration (environment variable, handler, package) and redeploy",
                None,
            ),
            Category::CodeException => (
                "Fix the exception at the top of the stack trace; roll back the last deploy if it started then",
                None,
            ),
            Category::ColdStart => (
                "Use provisioned concurrency or trim the package and initialisation code",
                None,
            ),
            Category::Unknown => (
                "Read the top error patterns; widen the window or add structured logging",
                None,
            ),
        }
    }
}

/// Signatures by category, most specific first. Matched case-insensitively.
pub const RULES: &[(Category, &[&str])] = &[
    (
        Category::OutOfMemory,
        &[
            "runtime exited with error: signal: killed",
            "runtime.outofmemory",
            "outofmemoryerror",
            "memoryerror",
            "out of memory",
            "oomkilled",
            "javascript heap out of memory",
            "cannot allocate memory",
        ],
    ),
    (
        Category::Timeout,
        &[
            "task timed out after",
            "sandbox.timedout",
            "lambda timed out",
            "deadline exceeded",
            "504 gateway timeout",
            "operation timed out",
        ],
    ),
    (
        Category::Throttling,
        &[
            "rate exceeded",
            "throttlingexception",
            "toomanyrequestsexception",
            "provisionedthroughputexceededexception",
            "requestlimitexceeded",
            "slowdown",
            "429 too many requests",
            "throttled",
        ],
    ),
    (
        Category::DatabaseConnection,
        &[
            "too many connections",
            "remaining connection slots",
            "connection pool",
            "pool exhausted",
            "pool is exhausted",
            "could not connect to server",
            "communications link failure",
            "er_con_count_error",
            "sqlstate[08",
            "connection to server at",
            "unable to acquire jdbc connection",
        ],
    ),
    (
        Category::PermissionDenied,
        &[
            "accessdenied",
            "not authorized to perform",
            "unauthorizedoperation",
            "permission denied",
            "eacces",
            "forbidden",
        ],
    ),
    (
        Category::DependencyUnreachable,
        &[
            "econnrefused",
            "connection refused",
            "enotfound",
            "getaddrinfo",
            "name or service not known",
            "no route to host",
            "ehostunreach",
            "econnreset",
            "connection reset by peer",
            "could not resolve host",
            "503 service unavailable",
            "service unavailable",
        ],
    ),
    (
        Category::Configuration,
        &[
            "runtime.importmoduleerror",
            "runtime.handlernotfound",
            "cannot find module",
            "no module named",
            "environment variable",
            "missing required",
            "keyerror",
            "is not defined",
            "configuration error",
            "configurationerror",
            "invalid configuration",
            "no such file or directory",
        ],
    ),
    (Category::Timeout, &["timed out", "timeout", "etimedout"]),
    (
        Category::CodeException,
        &[
            "traceback (most recent call last)",
            "exception",
            "typeerror",
            "valueerror",
            "referenceerror",
            "nullpointerexception",
            "indexerror",
            "attributeerror",
            "panicked at",
            "unhandled",
            "stack trace",
            "runtime.unhandledpromiserejection",
        ],
    ),
    (
        Category::ColdStart,
        &["init duration", "init_start", "cold start"],
    ),
];

/// The category of one line (its lowercase form), if any signature matches.
pub fn categorize(lower: &str) -> Option<Category> {
    RULES
        .iter()
        .find(|(_, sigs)| sigs.iter().any(|s| lower.contains(s)))
        .map(|(c, _)| *c)
}

/// A Lambda REPORT line that used all its memory ("Max Memory Used: 256 MB" at
/// "Memory Size: 256 MB") is out-of-memory evidence even without an error word.
pub fn report_line_at_memory_limit(line: &str) -> bool {
    if !line.contains("REPORT RequestId") {
        return false;
    }
    let num_after = |key: &str| {
        let i = line.find(key)? + key.len();
        line[i..].split_whitespace().next()?.parse::<f64>().ok()
    };
    matches!((num_after("Max Memory Used:"), num_after("Memory Size:")), (Some(used), Some(size)) if used >= size)
}

/// Words that make a line an error line even without an error level.
pub const ERROR_WORDS: &[&str] = &[
    "error",
    "exception",
    "fail",
    "fatal",
    "panic",
    "timed out",
    "timeout",
    "refused",
    "denied",
    "killed",
    "traceback",
    "unable to",
    "cannot",
    "critical",
    "throttl",
    "rate exceeded",
];

/// Whether a line (lowercase) reads as an error.
pub fn is_error_text(lower: &str) -> bool {
    ERROR_WORDS.iter().any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(line: &str) -> Option<Category> {
        categorize(&line.to_lowercase())
    }

    #[test]
    fn real_aws_signatures_map_to_their_category() {
        assert_eq!(
            cat("2025-11-03T20:00:00.000Z abc Task timed out after 3.00 seconds"),
            Some(Category::Timeout)
        );
        assert_eq!(
            cat(
                "RequestId: abc Error: Runtime exited with error: signal: killed Runtime.ExitError"
            ),
            Some(Category::OutOfMemory)
        );
        assert_eq!(
            cat("ThrottlingException: Rate exceeded"),
            Some(Category::Throttling)
        );
        assert_eq!(
            cat("TooManyRequestsException: Rate Exceeded."),
            Some(Category::Throttling)
        );
        assert_eq!(
            cat(
                "FATAL: remaining connection slots are reserved for non-replication superuser connections"
            ),
            Some(Category::DatabaseConnection)
        );
        assert_eq!(
            cat("error: too many connections"),
            Some(Category::DatabaseConnection)
        );
        assert_eq!(
            cat("Error: connect ECONNREFUSED 10.0.1.5:6379"),
            Some(Category::DependencyUnreachable)
        );
        assert_eq!(
            cat("getaddrinfo ENOTFOUND api.partner.example"),
            Some(Category::DependencyUnreachable)
        );
        assert_eq!(
            cat(
                "AccessDeniedException: User: arn:aws:sts::1:assumed-role/x is not authorized to perform: dynamodb:PutItem"
            ),
            Some(Category::PermissionDenied)
        );
        assert_eq!(
            cat("[ERROR] KeyError: 'DATABASE_URL'"),
            Some(Category::Configuration)
        );
        assert_eq!(
            cat(
                "Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'"
            ),
            Some(Category::Configuration)
        );
        assert_eq!(
            cat("Traceback (most recent call last):"),
            Some(Category::CodeException)
        );
        assert_eq!(
            cat("TypeError: Cannot read properties of undefined (reading 'id')"),
            Some(Category::CodeException)
        );
        assert_eq!(
            cat("REPORT RequestId: x Duration: 1.0 ms Init Duration: 812.3 ms"),
            Some(Category::ColdStart)
        );
        assert_eq!(cat("all good"), None);
    }

    #[test]
    fn a_database_error_is_not_mistaken_for_a_code_exception() {
        assert_eq!(
            cat(
                "psycopg2.OperationalError: connection to server at \"db\" (10.0.3.12), port 5432 failed: FATAL: remaining connection slots are reserved"
            ),
            Some(Category::DatabaseConnection)
        );
    }

    #[test]
    fn report_lines_at_the_memory_limit() {
        assert!(report_line_at_memory_limit(
            "REPORT RequestId: a\tDuration: 5.0 ms\tBilled Duration: 6 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB"
        ));
        assert!(!report_line_at_memory_limit(
            "REPORT RequestId: a\tDuration: 5.0 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB"
        ));
    }

    #[test]
    fn every_category_but_unknown_has_signatures_and_advice() {
        let covered: std::collections::HashSet<Category> = RULES.iter().map(|(c, _)| *c).collect();
        for c in [
            Category::Timeout,
            Category::OutOfMemory,
            Category::Throttling,
            Category::DatabaseConnection,
            Category::DependencyUnreachable,
            Category::PermissionDenied,
            Category::Configuration,
            Category::CodeException,
            Category::ColdStart,
        ] {
            assert!(covered.contains(&c), "{c:?}");
            assert!(!c.summary().is_empty() && !c.recommendation().0.is_empty());
        }
    }
}
