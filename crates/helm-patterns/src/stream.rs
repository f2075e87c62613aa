//! Mining a stream of log lines on several threads. Masking a line is most of the work and
//! needs nothing from the lines before it, so batches of lines are masked in parallel, and
//! one thread files the masked lines in their clusters in the order they were read: the
//! result is the one [`Miner::add_line`] gives line by line, whatever the thread count.
//!
//! ```text
//!  caller's thread                                 helpers (threads - 1)
//!  read ~128 KiB of whole lines as batch i  ──▶   take the oldest queued batch,
//!  file batch `next` in order once masked  ◀──    cut it into lines, mask each
//!  (Miner::place), masking queued batches          (mask::mask_into)
//!  itself while it waits
//! ```
//!
//! One thread per core, none idle while another has work: the caller's thread masks too
//! rather than waking up to hand work around.
//!
//! Memory stays flat however long the stream: a bounded number of batches is in flight.

use crate::{ClusterId, Level, MaskedRef, Miner, Rules, read_line};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Bytes read per batch (a line longer than that makes its batch longer).
const BATCH_BYTES: usize = 128 * 1024;

/// Batches out per masking thread (queued, being masked, or masked and waiting to be filed).
const IN_FLIGHT: usize = 2;

/// What mining a stream gives.
#[derive(Debug)]
pub struct Mined {
    pub miner: Miner,
    /// Each line's cluster, in order (empty unless asked for).
    pub ids: Vec<ClusterId>,
    pub lines: u64,
}

/// Mine every line of `reader` (cut at `\n`; a last line without one counts) into `miner`,
/// reading each as [`Miner::add_line`] does, with `threads` masking threads: this one and
/// `threads - 1` helpers (0 or 1: this one alone). `keep_ids` keeps each line's cluster,
/// for per-line assignments.
pub fn mine_stream<R: Read + ?Sized>(
    reader: &mut R,
    miner: Miner,
    threads: usize,
    keep_ids: bool,
) -> io::Result<Mined> {
    mine_in_batches(reader, miner, threads, keep_ids, BATCH_BYTES)
}

/// [`mine_stream`] reading `batch_bytes` at a time (the tests cut tiny batches).
fn mine_in_batches<R: Read + ?Sized>(
    reader: &mut R,
    miner: Miner,
    threads: usize,
    keep_ids: bool,
    batch_bytes: usize,
) -> io::Result<Mined> {
    let rules = miner.config.rules;
    let mut mined = Mined {
        miner,
        ids: Vec::new(),
        lines: 0,
    };
    if threads <= 1 {
        let (mut batch, mut carry) = (Batch::default(), Vec::new());
        while read_batch(reader, &mut batch, &mut carry, batch_bytes)? {
            batch.mask(&rules);
            batch.file(&mut mined, keep_ids);
        }
        return Ok(mined);
    }
    let work = Work::default();
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|| work.help(&rules));
        }
        // Whatever happens here, the helpers are told that no more batches will come.
        let _closing = Closing(&work);
        // This thread reads, files in order, and masks when it has nothing else to do: it
        // reads while fewer than IN_FLIGHT batches per thread are out; else it files the
        // next batch in order once masked, masking batches itself while it waits.
        let (mut carry, mut spent) = (Vec::new(), Vec::new());
        let (mut sent, mut filed, mut ended) = (0usize, 0usize, false);
        loop {
            if !ended && sent - filed < IN_FLIGHT * threads {
                let mut batch = spent.pop().unwrap_or_default();
                if read_batch(reader, &mut batch, &mut carry, batch_bytes)? {
                    work.queue(sent, batch);
                    sent += 1;
                } else {
                    ended = true;
                }
                continue;
            }
            if filed == sent {
                return Ok(mined);
            }
            let batch = work.take_masked(filed, &rules);
            batch.file(&mut mined, keep_ids);
            filed += 1;
            spent.push(batch);
        }
    })
}

/// Batches to mask and masked ones, shared by the reading thread and its helpers.
#[derive(Default)]
struct Work {
    state: Mutex<Queues>,
    /// Signalled when a batch is queued or masked, and at the end.
    changed: Condvar,
}

#[derive(Default)]
struct Queues {
    /// Batches to mask, by their place in the stream, oldest first.
    to_mask: VecDeque<(usize, Batch)>,
    /// Masked batches not yet filed, by their place in the stream.
    masked: Vec<(usize, Batch)>,
    /// No more batches will come.
    closed: bool,
    /// A helper panicked: the batch it held will never come.
    failed: bool,
}

impl Work {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn queue(&self, index: usize, batch: Batch) {
        self.lock().to_mask.push_back((index, batch));
        self.changed.notify_one();
    }

    /// A helper thread: masks queued batches until no more will come.
    fn help(&self, rules: &Rules) {
        let _failing = Failing(self);
        loop {
            let (index, mut batch) = {
                let mut q = self.lock();
                loop {
                    if let Some(next) = q.to_mask.pop_front() {
                        break next;
                    }
                    if q.closed {
                        return;
                    }
                    q = self.changed.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            batch.mask(rules);
            self.lock().masked.push((index, batch));
            self.changed.notify_all();
        }
    }

    /// Batch `index`, masked: by a helper, or here while waiting for it.
    fn take_masked(&self, index: usize, rules: &Rules) -> Batch {
        let mut q = self.lock();
        loop {
            if let Some(at) = q.masked.iter().position(|(i, _)| *i == index) {
                return q.masked.swap_remove(at).1;
            }
            assert!(!q.failed, "a masking thread panicked");
            if let Some((i, mut batch)) = q.to_mask.pop_front() {
                drop(q);
                batch.mask(rules);
                if i == index {
                    return batch;
                }
                q = self.lock();
                q.masked.push((i, batch));
                continue;
            }
            q = self.changed.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Tells the helpers, when the reading thread is done (or fails), that nothing more comes.
struct Closing<'a>(&'a Work);

impl Drop for Closing<'_> {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.changed.notify_all();
    }
}

/// Marks the work failed if a helper unwinds, so the reading thread stops waiting for it.
struct Failing<'a>(&'a Work);

impl Drop for Failing<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().failed = true;
            self.0.changed.notify_all();
        }
    }
}

/// Read whole lines into `batch.input` (at least `batch_bytes` of them unless the stream
/// ends): the part line after the last `\n` waits in `carry` for the next batch. False when
/// the stream has ended and nothing is left.
fn read_batch<R: Read + ?Sized>(
    reader: &mut R,
    batch: &mut Batch,
    carry: &mut Vec<u8>,
    batch_bytes: usize,
) -> io::Result<bool> {
    // The buffer keeps its length from batch to batch (zeroed once, when it grows); `len`
    // says how much of it this batch holds.
    let mut filled = carry.len();
    if batch.buffer.len() < filled {
        batch.buffer.resize(filled, 0);
    }
    batch.buffer[..filled].copy_from_slice(carry);
    carry.clear();
    let mut target = batch_bytes.max(1);
    loop {
        // Reads straight into the batch, as large as it has room for.
        let end = target.max(filled);
        if batch.buffer.len() < end {
            batch.buffer.resize(end, 0);
        }
        while filled < end {
            match reader.read(&mut batch.buffer[filled..end]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled < end {
            // The end of the stream: everything read is whole lines.
            batch.len = filled;
            return Ok(filled > 0);
        }
        if let Some(last) = memchr::memrchr(b'\n', &batch.buffer[..filled]) {
            carry.extend_from_slice(&batch.buffer[last + 1..filled]);
            batch.len = last + 1;
            return Ok(true);
        }
        // One line longer than a batch: read on until it ends.
        target = filled * 2;
    }
}

/// A batch of lines as read, and what masking made of them.
#[derive(Debug, Default)]
struct Batch {
    /// Whole lines, each ended by `\n` (but for the stream's last): `buffer[..len]`.
    buffer: Vec<u8>,
    len: usize,
    lines: Vec<Line>,
    /// The masked lines back to back (see [`crate::mask::mask_into`]).
    text: Vec<u8>,
    bounds: Vec<(u32, u32)>,
    /// The messages of lines read the general way (JSON objects, lines not UTF-8).
    messages: Vec<u8>,
}

/// One masked line of a batch: ranges into its buffers.
#[derive(Debug)]
struct Line {
    key: Range<usize>,
    words: Range<usize>,
    /// The message (a new cluster's sample): in the lines read, or in `messages`.
    message: Range<usize>,
    in_messages: bool,
    level: Option<Level>,
}

impl Batch {
    /// Cut the lines read into lines and mask each (what the masking threads do).
    fn mask(&mut self, rules: &Rules) {
        let Batch {
            buffer,
            len,
            lines,
            text,
            bounds,
            messages,
        } = self;
        let input = &buffer[..*len];
        lines.clear();
        text.clear();
        bounds.clear();
        messages.clear();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', input).chain(
            // The stream's last line, when it has no `\n`.
            (input.last().is_some_and(|b| *b != b'\n')).then_some(input.len()),
        );
        for end in ends {
            let raw = &input[start..end];
            let (key, words) = (text.len(), bounds.len());
            let read = read_line(raw, rules, text, bounds);
            let (message, in_messages) = match &read.message {
                None => (start..start + read.raw.len(), false),
                Some(m) => {
                    let at = messages.len();
                    messages.extend_from_slice(m.as_bytes());
                    (at..messages.len(), true)
                }
            };
            lines.push(Line {
                key: key..text.len(),
                words: words..bounds.len(),
                message,
                in_messages,
                level: read.level,
            });
            start = end + 1;
        }
    }

    /// File the masked lines in `mined`'s miner, in order.
    fn file(&self, mined: &mut Mined, keep_ids: bool) {
        for line in &self.lines {
            let masked = MaskedRef {
                key: &self.text[line.key.clone()],
                bounds: &self.bounds[line.words.clone()],
            };
            let from = if line.in_messages {
                &self.messages
            } else {
                &self.buffer[..self.len]
            };
            let message = &from[line.message.clone()];
            let id = mined.miner.place(masked, message, None, line.level);
            if keep_ids {
                mined.ids.push(id);
            }
        }
        mined.lines += self.lines.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of every kind the reader tells apart: plain, level-marked, JSON, `\r`-ended,
    /// blank, tabbed, non-ASCII, not UTF-8, and one longer than any tiny batch.
    fn input() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..300 {
            let line = match i % 10 {
                0 => format!(
                    "Received block blk_{i} of size {} from /10.0.0.{i}:50010",
                    i * 7
                ),
                1 => format!("[ERROR] request {i} failed after {}ms", i % 13),
                2 => format!(r#"{{"level":"warn","message":"slow query {i} took {i}s"}}"#),
                3 => format!("user{} logged in\r", i % 5),
                4 => String::new(),
                5 => format!("\tWARN\tdisk {i}% full on vol-{i:x}"),
                6 => format!("caf\u{e9} {i} servi \u{2014} ok"),
                7 => "x".repeat(40 + i),
                8 => format!("  {{not json {i}"),
                _ => format!("INFO session {i} closed by peer"),
            };
            v.extend_from_slice(line.as_bytes());
            if i % 10 == 6 {
                v.extend_from_slice(b" \xff\xfe bad");
            }
            v.push(b'\n');
        }
        v.extend_from_slice(b"the last line has no newline 42");
        v
    }

    /// Line by line with `add_line`: what every batching and thread count must give.
    /// Each line's final template, and every cluster's template, count, level and sample.
    type Summary = (Vec<String>, Vec<(String, u64, Option<Level>, String)>);

    fn one_by_one(input: &[u8]) -> Summary {
        let mut m = Miner::new();
        let mut lines: Vec<&[u8]> = input.split(|b| *b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        let ids: Vec<ClusterId> = lines.iter().map(|l| m.add_line(l)).collect();
        m.consolidate();
        summary(&m, &ids)
    }

    fn summary(m: &Miner, ids: &[ClusterId]) -> Summary {
        let per_line = ids.iter().map(|id| m.cluster(*id).template()).collect();
        let clusters = m
            .clusters()
            .map(|c| (c.template(), c.count, c.level, c.sample.clone()))
            .collect();
        (per_line, clusters)
    }

    #[test]
    fn any_batching_and_thread_count_gives_the_line_by_line_result() {
        let input = input();
        let expected = one_by_one(&input);
        assert_eq!(expected.0.len(), 301);
        for threads in [0, 1, 2, 3] {
            for batch in [1, 7, 64, 1000, BATCH_BYTES] {
                let mined =
                    mine_in_batches(&mut input.as_slice(), Miner::new(), threads, true, batch)
                        .unwrap();
                let mut m = mined.miner;
                m.consolidate();
                assert_eq!(mined.lines, 301, "threads {threads}, batch {batch}");
                assert_eq!(
                    summary(&m, &mined.ids),
                    expected,
                    "threads {threads}, batch {batch}"
                );
            }
        }
    }

    #[test]
    fn lines_are_counted_as_the_newlines_say() {
        let count = |text: &[u8], threads| {
            mine_in_batches(&mut &text[..], Miner::new(), threads, false, 3)
                .unwrap()
                .lines
        };
        for threads in [1, 2] {
            assert_eq!(count(b"", threads), 0);
            assert_eq!(count(b"\n", threads), 1);
            assert_eq!(count(b"a\n\nb", threads), 3);
            assert_eq!(count(b"a\nb\n", threads), 2);
        }
    }

    /// A reader that gives some lines, then fails.
    struct Failing(Vec<u8>);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk gone"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_is_returned_not_taken_for_the_end() {
        for threads in [1, 2] {
            let mut r = Failing(b"a 1\nb 2\n".repeat(100));
            let err = mine_in_batches(&mut r, Miner::new(), threads, true, 16).unwrap_err();
            assert_eq!(err.to_string(), "disk gone");
        }
    }
}
