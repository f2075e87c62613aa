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
        emit(&mut out, &body);
    }

    /// Text as it is, on stdout (whatever the format).
    pub fn text(&self, body: &str) {
        emit(&mut std::io::stdout().lock(), body);
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

/// Write one result. A closed pipe (`helm-cloud logs … | head -1`) ends the command quietly
/// with 0, as ripgrep does: the reader has what it wanted. Any other write error is ignored
/// here (stdout is gone; there is nowhere to report it).
fn emit(out: &mut impl Write, body: &str) {
    PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
    let r = writeln!(out, "{}", body.trim_end_matches('\n')).and_then(|_| out.flush());
    if let Err(e) = r
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

static PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether a result reached stdout (an error after it adds no second JSON document).
pub fn result_printed() -> bool {
    PRINTED.load(std::sync::atomic::Ordering::Relaxed)
}
