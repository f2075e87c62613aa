//! Errors stop here: every failure becomes one or two lines on stderr and an exit code
//! (INTERFACE.md); with `--format json`, also one `{"error": …}` document on stdout.

use helm_aws::{AwsError, AwsErrorKind};
use helm_core::ErrorKind;
use serde_json::{Value, json};

pub const EXIT_REFUSED: u8 = 4;
pub const EXIT_USAGE: u8 = 64;
pub const EXIT_DATAERR: u8 = 65;
pub const EXIT_NOINPUT: u8 = 66;
pub const EXIT_UNAVAILABLE: u8 = 69;
pub const EXIT_SOFTWARE: u8 = 70;
pub const EXIT_TEMPFAIL: u8 = 75;
pub const EXIT_NOPERM: u8 = 77;

/// A failure as the user sees it: what failed, on what, and what to do.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(EXIT_USAGE, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The cause in one word, for the JSON error document.
    pub fn kind(&self) -> &'static str {
        kind_of(self.code)
    }

    /// `{"error": {"code", "kind", "message", "hint"}}`.
    pub fn to_json(&self) -> Value {
        json!({"error": {"code": self.code, "kind": self.kind(), "message": self.message, "hint": self.hint}})
    }
}

pub fn kind_of(code: u8) -> &'static str {
    match code {
        EXIT_REFUSED => "refused",
        EXIT_USAGE => "usage",
        EXIT_DATAERR => "invalid_file",
        EXIT_NOINPUT => "not_found",
        EXIT_UNAVAILABLE => "unavailable",
        EXIT_TEMPFAIL => "busy",
        EXIT_NOPERM => "permission_denied",
        _ => "internal",
    }
}

impl From<helm_core::Error> for CliError {
    fn from(e: helm_core::Error) -> Self {
        let code = match e.kind() {
            ErrorKind::Usage => EXIT_USAGE,
            ErrorKind::InvalidFile => EXIT_DATAERR,
            ErrorKind::Io | ErrorKind::Internal => EXIT_SOFTWARE,
        };
        CliError {
            code,
            hint: e.hint().map(str::to_string),
            message: e.to_string(),
        }
    }
}

/// The exit code of an AWS failure that stops a whole command.
pub fn aws_exit_code(kind: AwsErrorKind) -> u8 {
    match kind {
        AwsErrorKind::AccessDenied | AwsErrorKind::Credentials => EXIT_NOPERM,
        AwsErrorKind::NotFound => EXIT_NOINPUT,
        AwsErrorKind::Unreachable | AwsErrorKind::Throttled | AwsErrorKind::Service => {
            EXIT_UNAVAILABLE
        }
    }
}

/// The exit code of a port failure that stops a whole command.
pub fn failure_exit_code(kind: helm_core::ports::FailureKind) -> u8 {
    use helm_core::ports::FailureKind as F;
    match kind {
        F::Unavailable | F::Rejected => EXIT_UNAVAILABLE,
        F::PermissionDenied => EXIT_NOPERM,
        F::NotFound => EXIT_NOINPUT,
    }
}

impl From<helm_core::ports::Failure> for CliError {
    fn from(f: helm_core::ports::Failure) -> Self {
        CliError {
            code: failure_exit_code(f.kind),
            hint: Some(f.hint),
            message: f.message,
        }
    }
}

impl From<helm_core::state::session::SessionError> for CliError {
    fn from(e: helm_core::state::session::SessionError) -> Self {
        use helm_core::state::session::SessionError as S;
        let hint = e.hint();
        match e {
            S::Store(f) => (*f).into(),
            S::Local(e) => e.into(),
            S::NotShared { .. } => CliError::new(EXIT_DATAERR, e.to_string()).hint(hint),
            S::Busy { .. } | S::Lost { .. } | S::Conflicts { .. } | S::NotAppended { .. } => {
                CliError::new(EXIT_TEMPFAIL, e.to_string()).hint(hint)
            }
        }
    }
}

impl From<helm_core::CaseError> for CliError {
    fn from(e: helm_core::CaseError) -> Self {
        match e {
            helm_core::CaseError::Domain(e) => e.into(),
            helm_core::CaseError::World(f) => (*f).into(),
        }
    }
}

impl From<AwsError> for CliError {
    fn from(e: AwsError) -> Self {
        CliError {
            code: aws_exit_code(e.kind),
            hint: Some(e.hint().to_string()),
            message: e.to_string(),
        }
    }
}

pub type CliResult<T = u8> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(kind: AwsErrorKind) -> CliError {
        AwsError::local("lambda:GetFunction", Some("api"), kind, "x").into()
    }

    #[test]
    fn aws_failures_map_to_the_documented_exit_codes() {
        assert_eq!(aws(AwsErrorKind::AccessDenied).code, 77);
        assert_eq!(aws(AwsErrorKind::Credentials).code, 77);
        assert_eq!(aws(AwsErrorKind::NotFound).code, 66);
        assert_eq!(aws(AwsErrorKind::Unreachable).code, 69);
        assert_eq!(aws(AwsErrorKind::Throttled).code, 69);
        let j = aws(AwsErrorKind::AccessDenied).to_json();
        assert_eq!(j["error"]["kind"], "permission_denied");
        assert_eq!(j["error"]["code"], 77);
    }
}
