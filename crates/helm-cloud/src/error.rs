//! Errors stop here: every failure becomes one or two lines on stderr and an exit code
//! (INTERFACE.md).

use helm_aws::{AwsError, AwsErrorKind};
use helm_core::ErrorKind;

pub const EXIT_USAGE: u8 = 64;
pub const EXIT_DATAERR: u8 = 65;
pub const EXIT_UNAVAILABLE: u8 = 69;
pub const EXIT_SOFTWARE: u8 = 70;

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

impl From<AwsError> for CliError {
    fn from(e: AwsError) -> Self {
        // Every AWS failure that stops a whole command means AWS could not be used.
        let code = match e.kind {
            AwsErrorKind::Unreachable
            | AwsErrorKind::Credentials
            | AwsErrorKind::AccessDenied
            | AwsErrorKind::Throttled => EXIT_UNAVAILABLE,
            AwsErrorKind::NotFound | AwsErrorKind::Service => EXIT_UNAVAILABLE,
        };
        CliError {
            code,
            hint: Some(e.hint().to_string()),
            message: e.to_string(),
        }
    }
}

pub type CliResult<T = u8> = Result<T, CliError>;
