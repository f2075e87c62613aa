//! `helm-cloud patterns`: the template miner on a file of log lines (or stdin).

use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_SOFTWARE};
use crate::table;
use helm_core::investigator::redact::redact;
use helm_patterns::Miner;
use serde_json::json;
use std::io::{Read, Write};
use std::path::Path;

pub fn run(
    ctx: &Ctx,
    file: Option<&Path>,
    top: usize,
    assignments: Option<&Path>,
    threads: Option<usize>,
) -> CliResult {
    let source = file.filter(|f| *f != Path::new("-"));
    let mut reader: Box<dyn Read> = match source {
        Some(f) => Box::new(std::fs::File::open(f).map_err(|e| {
            CliError::usage(format!("cannot read {}: {e}", f.display()))
                .hint("give a file of log lines, or - for stdin")
        })?),
        None => Box::new(std::io::stdin().lock()),
    };
    let threads = threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
    });
    // Read in batches of whole lines, masked on `threads` threads and filed in order, so
    // memory stays flat however long the input and the result does not depend on threads.
    let mined =
        helm_patterns::mine_stream(&mut *reader, Miner::new(), threads, assignments.is_some())
            .map_err(|e| CliError::new(EXIT_SOFTWARE, format!("reading the log lines: {e}")))?;
    let (mut miner, ids, lines) = (mined.miner, mined.ids, mined.lines);
    miner.consolidate();
    if let Some(out) = assignments {
        std::thread::scope(|scope| {
            // The report's secret masking compiles its patterns meanwhile, on the core the
            // CSV leaves idle, instead of a millisecond after it.
            scope.spawn(|| redact(""));
            write_assignments(out, &miner, &ids, threads)
        })?;
    }
    let mut clusters: Vec<_> = miner.clusters().collect();
    clusters.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    let shown: Vec<_> = clusters.iter().take(top).collect();
    let json = json!({
        "lines": lines,
        "templates": clusters.len(),
        "assignments": assignments.map(|p| p.display().to_string()),
        "patterns": shown.iter().map(|c| json!({
            "template": redact(&c.template()),
            "count": c.count,
            "level": c.level.map(|l| l.as_str()),
            "sample": redact(&c.sample),
        })).collect::<Vec<_>>(),
    });
    ctx.out.result(&json, || {
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|c| {
                vec![
                    c.count.to_string(),
                    c.level
                        .map(|l| l.as_str().to_string())
                        .unwrap_or_else(|| "-".into()),
                    redact(&c.template()).into_owned(),
                ]
            })
            .collect();
        let mut s = format!("{lines} lines, {} templates", clusters.len());
        if clusters.len() > shown.len() {
            s.push_str(&format!(" (top {} shown; --top N for more)", shown.len()));
        }
        s.push_str("\n\n");
        s.push_str(&table::render(&["COUNT", "LEVEL", "TEMPLATE"], &rows));
        if let Some(p) = assignments {
            s.push_str(&format!("\n\nassignments written to {}", p.display()));
        }
        s
    });
    Ok(0)
}

/// More masking threads than this gain nothing: one thread files the lines in order.
const MAX_THREADS: usize = 8;

/// Lines of the CSV formatted per block (each thread formats whole blocks, in buffers
/// that come back once written: a few hundred kilobytes touched, not the whole file).
const CSV_BLOCK_LINES: usize = 4 * 1024;

/// `LineId,EventTemplate` with each line's final template (RFC 4180 quoting), written to a
/// temporary file and renamed into place. Blocks of lines are formatted on `threads`
/// threads and written in order as they come, so memory stays bounded by a few blocks.
fn write_assignments(path: &Path, miner: &Miner, ids: &[u32], threads: usize) -> CliResult<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let fail = |e: std::io::Error| {
        CliError::new(EXIT_SOFTWARE, format!("writing {}: {e}", path.display()))
    };
    // Each cluster's `,template\n`, the part of a row after its line number.
    let rows: Vec<Vec<u8>> = (0..ids.iter().copied().max().map_or(0, |m| m + 1))
        .map(|id| format!(",{}\n", csv_field(&miner.cluster(id).template())).into_bytes())
        .collect();
    let longest = rows.iter().map(Vec::len).max().unwrap_or(0);
    let format_block = |block: usize, mut out: Vec<u8>| {
        let first = block * CSV_BLOCK_LINES;
        let lines = &ids[first..ids.len().min(first + CSV_BLOCK_LINES)];
        out.clear();
        out.reserve(lines.len() * (longest + 20));
        let mut number = LineNumber::new(first + 1);
        for id in lines {
            out.extend_from_slice(number.digits());
            out.extend_from_slice(&rows[*id as usize]);
            number.increment();
        }
        out
    };
    let blocks = ids.len().div_ceil(CSV_BLOCK_LINES);
    let threads = threads.clamp(1, blocks.max(1));
    // No fsync: the file is derived (run it again to rebuild it), and the rename still
    // means a reader sees the old file or the whole new one, never half of it.
    let mut file = std::fs::File::create(&tmp).map_err(fail)?;
    // The file's blocks reserved at once, rather than page by page as it is written (best
    // effort: not every file system can; the size stays that of what is written).
    let _ = rustix::fs::fallocate(
        &file,
        rustix::fs::FallocateFlags::KEEP_SIZE,
        0,
        csv_len(ids, &rows) as u64,
    );
    let written: std::io::Result<()> = std::thread::scope(|scope| {
        file.write_all(HEADER)?;
        // Block b goes to formatter b % threads; taking them round-robin keeps the order.
        let formatters: Vec<_> = (0..threads)
            .map(|k| {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
                let (written_tx, written_rx) = std::sync::mpsc::channel::<Vec<u8>>();
                scope.spawn(move || {
                    for block in (k..blocks).step_by(threads) {
                        let buffer = written_rx.try_recv().unwrap_or_default();
                        if tx.send(format_block(block, buffer)).is_err() {
                            return;
                        }
                    }
                });
                (rx, written_tx)
            })
            .collect();
        for block in 0..blocks {
            let (formatted, written) = &formatters[block % threads];
            let text = formatted
                .recv()
                .expect("a formatter sends every block it has");
            file.write_all(&text)?;
            // Back to its formatter to fill again (it may have finished: then dropped).
            let _ = written.send(text);
        }
        Ok(())
    });
    drop(file);
    // The old file goes first, then the new one is renamed in: ext4 (auto_da_alloc) would
    // flush a file renamed over another one at once, several milliseconds of a user's wait
    // for a large CSV, to keep it through a crash; this file is derived (run the command
    // again to rebuild it). A reader sees the old file, for an instant none, or the whole
    // new one, never half of one.
    let done = written
        .and_then(|()| match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if done.is_err() {
        // The target stays as it was; nothing half-written is left beside it.
        let _ = std::fs::remove_file(&tmp);
    }
    done.map_err(fail)
}

/// The length of the CSV: its header, then each line's number and row.
fn csv_len(ids: &[u32], rows: &[Vec<u8>]) -> usize {
    let numbers: usize = (1..=20)
        .map(|digits| {
            // Line numbers with this many digits: 10^(d-1) ..= 10^d - 1, up to ids.len().
            let (low, high) = (10usize.pow(digits - 1), 10usize.saturating_pow(digits) - 1);
            digits as usize * ids.len().min(high).saturating_sub(low - 1)
        })
        .sum();
    HEADER.len() + numbers + ids.iter().map(|id| rows[*id as usize].len()).sum::<usize>()
}

const HEADER: &[u8] = b"LineId,EventTemplate\n";

/// A line number in decimal, counted up digit by digit (cheaper than formatting each).
struct LineNumber {
    digits: [u8; 20],
    /// Where the number starts in `digits` (it ends at the end).
    start: usize,
}

impl LineNumber {
    fn new(n: usize) -> Self {
        let text = n.to_string();
        let mut digits = [b'0'; 20];
        let start = digits.len() - text.len();
        digits[start..].copy_from_slice(text.as_bytes());
        LineNumber { digits, start }
    }

    fn digits(&self) -> &[u8] {
        &self.digits[self.start..]
    }

    fn increment(&mut self) {
        for i in (self.start..self.digits.len()).rev() {
            if self.digits[i] < b'9' {
                self.digits[i] += 1;
                return;
            }
            self.digits[i] = b'0';
        }
        // 99 → 100: one digit more (the one before `start` is already '0').
        self.start -= 1;
        self.digits[self.start] = b'1';
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_is_as_long_as_reserved() {
        let rows = vec![b",a\n".to_vec(), b",bcd\n".to_vec()];
        for n in [0usize, 1, 9, 10, 99, 100, 12_345] {
            let ids: Vec<u32> = (0..n as u32).map(|i| i % 2).collect();
            let mut text = HEADER.to_vec();
            for (i, id) in ids.iter().enumerate() {
                text.extend_from_slice((i + 1).to_string().as_bytes());
                text.extend_from_slice(&rows[*id as usize]);
            }
            assert_eq!(csv_len(&ids, &rows), text.len(), "{n} lines");
        }
    }

    #[test]
    fn line_numbers_count_up_as_formatting_them_would() {
        for start in [1, 8, 95, 998, 99_990] {
            let mut n = LineNumber::new(start);
            for i in start..start + 1_100 {
                assert_eq!(n.digits(), i.to_string().as_bytes());
                n.increment();
            }
        }
    }
}
