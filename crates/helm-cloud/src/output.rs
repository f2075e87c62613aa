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
    /// A front end that is not a terminal (`mcp`) takes the result here instead of stdout,
    /// which carries its protocol.
    pub capture: Option<std::sync::Arc<std::sync::Mutex<Captured>>>,
}

/// What a command printed, when the printer captures.
#[derive(Debug, Default)]
pub struct Captured {
    /// The JSON document of the result.
    pub json: Option<Value>,
    /// Its text rendering, and any text lines.
    pub text: String,
}

impl Printer {
    /// Print a result: `json` when the format is JSON, else the text `text()` builds.
    pub fn result(&self, json: &Value, text: impl FnOnce() -> String) {
        if let Some(c) = &self.capture {
            let body = text();
            if let Ok(mut c) = c.lock() {
                c.json = Some(json.clone());
                c.text.push_str(&body);
            }
            return;
        }
        let mut out = std::io::stdout().lock();
        let body = match self.format {
            Format::Json => serde_json::to_string_pretty(json).expect("JSON values serialise"),
            Format::Text | Format::Voice => text(),
        };
        emit(&mut out, &body);
    }

    /// Text as it is, on stdout (whatever the format).
    pub fn text(&self, body: &str) {
        if let Some(c) = &self.capture {
            if let Ok(mut c) = c.lock() {
                c.text.push_str(body);
                c.text.push('\n');
            }
            return;
        }
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

    /// A spinner on stderr while a long step runs, only when stderr is a terminal (and not
    /// with -q): pipes, CI logs and JSON consumers never see it. Cleared when dropped.
    pub fn progress(&self, message: impl Into<String>) -> Progress {
        use std::io::IsTerminal;
        if self.quiet || self.capture.is_some() || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(message.into());
        // Drawn at once, then kept alive while the step runs.
        bar.tick();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress(Some(bar))
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

/// A running spinner (see [`Printer::progress`]).
pub struct Progress(Option<indicatif::ProgressBar>);

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
