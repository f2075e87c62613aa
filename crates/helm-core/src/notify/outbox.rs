//! The outbox: every event is a file here, written and fsynced before it is sent and
//! removed only once its channel said 2xx, so a process that dies mid-send delivers it on
//! the next run. Beside it, the ledger: what each channel last heard of each issue. An
//! entry names its channel, never the channel's secret (secrets are read at send time).
//!
//! Layout under `.fractary/plugins/helm-cloud/notifications/`: `outbox/<seq>-<channel>.json`,
//! `failed/<seq>-<channel>.json` (a 4xx answer: kept with the reason, never retried),
//! `ledger.json`, `sequence`.

use super::Event;
use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock};
use crate::issues::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a channel last heard of an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Heard {
    Open,
    Resolved,
}

/// One (channel, issue) line of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub fingerprint: String,
    pub heard: Heard,
    /// The severity the channel was last told.
    pub severity: Severity,
    /// When the channel was last sent something about the issue.
    pub notified_at: String,
}

/// What the ledger records once an event is out: (issue id, its line).
pub type Effect = Option<(String, LedgerEntry)>;

/// channel → issue id → what it heard.
pub type Ledger = BTreeMap<String, BTreeMap<String, LedgerEntry>>;

/// One event waiting for (or refused by) its channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub channel: String,
    pub created_at: String,
    /// What the ledger records once the event is out (None: the ledger does not change).
    pub effect: Effect,
    pub event: Event,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub next_attempt_at: Option<String>,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// A project's notification files.
#[derive(Debug, Clone)]
pub struct Outbox {
    pub dir: PathBuf,
}

impl Outbox {
    /// Under `plugin_dir` (`.fractary/plugins/helm-cloud`).
    pub fn new(plugin_dir: &Path) -> Outbox {
        Outbox {
            dir: plugin_dir.join("notifications"),
        }
    }

    pub fn pending_dir(&self) -> PathBuf {
        self.dir.join("outbox")
    }

    pub fn failed_dir(&self) -> PathBuf {
        self.dir.join("failed")
    }

    fn ledger_path(&self) -> PathBuf {
        self.dir.join("ledger.json")
    }

    /// The lock under which events are planned and queued (short: no network inside).
    pub fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(&self.dir.join("queue"))
    }

    /// The lock one deliverer holds while it sends; None when another process is sending
    /// (it will send what is queued, in order).
    pub fn try_delivery_lock(&self) -> Result<Option<FileLock>> {
        FileLock::try_acquire(&self.dir.join("delivery"))
    }

    pub fn ledger(&self) -> Result<Ledger> {
        let path = self.ledger_path();
        match fsutil::read_optional(&path)? {
            None => Ok(Ledger::new()),
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                Error::invalid(
                    &path,
                    Some(e.line()),
                    None,
                    format!("not a notification ledger: {e}"),
                )
                .with_hint("move it aside: the next pass rebuilds it (channels may hear open issues once more)")
            }),
        }
    }

    fn save_ledger(&self, ledger: &Ledger) -> Result<()> {
        let text = serde_json::to_string_pretty(ledger).expect("ledger serialises") + "\n";
        fsutil::write_atomic(&self.ledger_path(), text.as_bytes())
    }

    /// The ledger as it will be once every pending entry is out: what planning compares
    /// with, so an event queued but not yet sent is not queued twice.
    pub fn effective_ledger(&self) -> Result<Ledger> {
        let mut ledger = self.ledger()?;
        for e in self.pending()? {
            apply(&mut ledger, &e);
        }
        Ok(ledger)
    }

    /// Record ledger changes that need no message (a severity fall, a pruned issue).
    pub fn update_ledger(&self, change: impl FnOnce(&mut Ledger)) -> Result<()> {
        let mut ledger = self.ledger()?;
        change(&mut ledger);
        self.save_ledger(&ledger)
    }

    fn next_seq(&self) -> Result<u64> {
        let path = self.dir.join("sequence");
        let last = fsutil::read_optional(&path)?
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(0);
        // Never below a file already there (a sequence file lost or rolled back).
        let seen = [self.pending_dir(), self.failed_dir()]
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
            .flatten()
            .filter_map(|e| seq_of(&e.file_name().to_string_lossy()))
            .max()
            .unwrap_or(0);
        let next = last.max(seen) + 1;
        fsutil::write_atomic(&path, format!("{next}\n").as_bytes())?;
        Ok(next)
    }

    /// Queue `event` for `channel` (call under [`Outbox::lock`]): fsynced before return.
    pub fn enqueue(&self, channel: &str, event: Event, effect: Effect, now: &str) -> Result<Entry> {
        let entry = Entry {
            seq: self.next_seq()?,
            channel: channel.to_string(),
            created_at: now.to_string(),
            effect,
            event,
            attempts: 0,
            next_attempt_at: None,
            last_error: None,
        };
        self.write(&self.pending_dir(), &entry)?;
        Ok(entry)
    }

    fn file_name(entry: &Entry) -> String {
        format!("{:012}-{}.json", entry.seq, entry.channel)
    }

    fn write(&self, dir: &Path, entry: &Entry) -> Result<()> {
        let text = serde_json::to_string_pretty(entry).expect("entries serialise") + "\n";
        fsutil::write_atomic(&dir.join(Self::file_name(entry)), text.as_bytes())
    }

    fn read_dir(&self, dir: &Path) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        for p in fsutil::json_files(dir)? {
            let Some(text) = fsutil::read_optional(&p)? else {
                continue; // delivered by another process meanwhile
            };
            // A file that is not an entry stays where it is and is said, never sent.
            let entry: Entry = serde_json::from_str(&text).map_err(|e| {
                Error::invalid(
                    &p,
                    Some(e.line()),
                    None,
                    format!("not an outbox entry: {e}"),
                )
                .with_hint("move the file out of the outbox; nothing else in it is affected")
            })?;
            out.push(entry);
        }
        out.sort_by_key(|e| e.seq);
        Ok(out)
    }

    /// Events waiting, oldest first.
    pub fn pending(&self) -> Result<Vec<Entry>> {
        self.read_dir(&self.pending_dir())
    }

    /// Events a channel refused.
    pub fn failed(&self) -> Result<Vec<Entry>> {
        self.read_dir(&self.failed_dir())
    }

    /// The channel took it: the ledger records it, then the file goes.
    pub fn delivered(&self, entry: &Entry) -> Result<()> {
        self.record_effect(entry)?;
        remove(&self.pending_dir().join(Self::file_name(entry)))
    }

    /// The channel refused it for good (a 4xx): kept in `failed/` with the reason.
    pub fn refused(&self, entry: &Entry, reason: &str) -> Result<()> {
        let mut e = entry.clone();
        e.last_error = Some(reason.to_string());
        self.record_effect(&e)?;
        self.write(&self.failed_dir(), &e)?;
        remove(&self.pending_dir().join(Self::file_name(entry)))
    }

    /// Not delivered this time: the attempt, the reason and when to try next are kept.
    pub fn postponed(&self, entry: &Entry) -> Result<()> {
        self.write(&self.pending_dir(), entry)
    }

    fn record_effect(&self, entry: &Entry) -> Result<()> {
        if entry.effect.is_none() {
            return Ok(());
        }
        let _lock = self.lock()?;
        self.update_ledger(|l| apply(l, entry))
    }
}

fn apply(ledger: &mut Ledger, entry: &Entry) {
    if let Some((issue, line)) = &entry.effect {
        ledger
            .entry(entry.channel.clone())
            .or_default()
            .insert(issue.clone(), line.clone());
    }
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("removing", path, e)),
    }
}

fn seq_of(name: &str) -> Option<u64> {
    name.split_once('-')?.0.parse().ok()
}
