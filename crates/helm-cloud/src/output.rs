//! All output goes through the printer: results on stdout (text or exactly one JSON
//! document), everything else on stderr.

use crate::cli::Format;
use serde_json::Value;
use std::io::Write;

#[derive(Debug, Clone)]
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    pub verbose: u8,
}

impl Printer {
    /// Print a result: `json` when the format is JSON, else the text `text()` builds.
    pub fn result(&self, json: &Value, text: impl FnOnce() -> String) {
        let mut out = std::io::stdout().lock();
        let body = match self.format {
            Format::Json => serde_json::to_string_pretty(json).expect("JSON values serialise"),
            Format::Text | Format::Voice => text(),
        };
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = writeln!(out, "{}", body.trim_end_matches('\n'));
    }

    /// Text as it is, on stdout (whatever the format).
    pub fn text(&self, body: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", body.trim_end_matches('\n'));
    }

    /// A warning on stderr (hidden by -q).
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            eprintln!("warning: {msg}");
        }
    }

    /// A line for people on stderr, without a prefix (hidden by -q).
    pub fn warn_plain(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// Detail shown with -v.
    pub fn debug(&self, msg: &str) {
        if self.verbose > 0 {
            eprintln!("debug: {msg}");
        }
    }
}
