//! One error type for the domain, with the category that decides the exit code.

use std::path::PathBuf;

/// What kind of failure this is; the binary maps it to an exit code (INTERFACE.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad usage: unknown environment, malformed id, contradictory flags (exit 64).
    Usage,
    /// A file that must be read is invalid (exit 65).
    InvalidFile,
    /// An I/O failure on a local file (exit 70: nothing the user typed was wrong).
    Io,
    /// Anything else that should not happen (exit 70).
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },

    /// A file is invalid. `line` is 1-based; `field` is a dotted path or key name.
    #[error("{}: {message}", location(path, *line, field.as_deref()))]
    InvalidFile {
        path: PathBuf,
        line: Option<usize>,
        field: Option<String>,
        message: String,
        hint: Option<String>,
    },

    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{0}")]
    Internal(String),
}

fn location(path: &std::path::Path, line: Option<usize>, field: Option<&str>) -> String {
    let mut s = path.display().to_string();
    if let Some(line) = line {
        s.push_str(&format!(":{line}"));
    }
    if let Some(field) = field {
        s.push_str(&format!(" ({field})"));
    }
    s
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Usage { .. } => ErrorKind::Usage,
            Error::InvalidFile { .. } => ErrorKind::InvalidFile,
            Error::Io { .. } => ErrorKind::Io,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Usage { hint, .. } | Error::InvalidFile { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    pub fn usage(message: impl Into<String>, hint: Option<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint,
        }
    }

    pub fn invalid(
        path: impl Into<PathBuf>,
        line: Option<usize>,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::InvalidFile {
            path: path.into(),
            line,
            field,
            message: message.into(),
            hint: None,
        }
    }

    /// Attach a hint to a usage or invalid-file error (others are returned unchanged).
    pub fn with_hint(mut self, text: impl Into<String>) -> Self {
        if let Error::Usage { hint, .. } | Error::InvalidFile { hint, .. } = &mut self {
            *hint = Some(text.into());
        }
        self
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Why a use case stopped: the domain refused (bad input, a bad file), or the world
/// failed (a port's call). Front ends map both to exit codes.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Domain(#[from] Error),
    /// Boxed: a failure carries several lines of text, and results stay small.
    #[error(transparent)]
    World(Box<crate::ports::Failure>),
}

impl From<crate::ports::Failure> for CaseError {
    fn from(f: crate::ports::Failure) -> Self {
        CaseError::World(Box::new(f))
    }
}
