//! `helm-cloud patterns`: the template miner on a file of log lines (or stdin).

use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_SOFTWARE};
use crate::table;
use helm_core::investigator::redact::redact;
use helm_patterns::{Miner, parse_line};
use serde_json::json;
use std::borrow::Cow;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

pub fn run(ctx: &Ctx, file: Option<&Path>, top: usize, assignments: Option<&Path>) -> CliResult {
    let source = file.filter(|f| *f != Path::new("-"));
    let mut reader: Box<dyn Read> = match source {
        Some(f) => Box::new(std::fs::File::open(f).map_err(|e| {
            CliError::usage(format!("cannot read {}: {e}", f.display()))
                .hint("give a file of log lines, or - for stdin")
        })?),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut miner = Miner::new();
    let mut ids: Vec<u32> = Vec::new();
    let mut lines = 0u64;
    let mut mine = |bytes: &[u8]| {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        let line = parse_line(&text);
        let id = miner.add_with(&line.message, None, line.level);
        if assignments.is_some() {
            ids.push(id);
        }
        lines += 1;
    };
    // Lines are cut from 1 MiB blocks (a longer line grows the block), so memory stays flat
    // however long the input, and no call is made per line.
    let mut buf = vec![0u8; 1 << 20];
    let mut filled = 0;
    loop {
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(CliError::new(
                    EXIT_SOFTWARE,
                    format!("reading the log lines: {e}"),
                ));
            }
        };
        filled += n;
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', &buf[..filled]) {
            mine(&buf[start..end]);
            start = end + 1;
        }
        if n == 0 {
            if start < filled {
                mine(&buf[start..filled]);
            }
            break;
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
    }
    miner.consolidate();
    if let Some(out) = assignments {
        write_assignments(out, &miner, &ids)?;
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

/// `LineId,EventTemplate` with each line's final template (RFC 4180 quoting), written to a
/// temporary file and renamed into place.
fn write_assignments(path: &Path, miner: &Miner, ids: &[u32]) -> CliResult<()> {
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
    let templates: Vec<String> = (0..ids.iter().copied().max().map_or(0, |m| m + 1))
        .map(|id| csv_field(&miner.cluster(id).template()))
        .collect();
    {
        // No fsync: the file is derived (run it again to rebuild it), and the rename still
        // means a reader sees the old file or the whole new one, never half of it.
        let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).map_err(fail)?);
        w.write_all(b"LineId,EventTemplate\n").map_err(fail)?;
        let mut n = itoa::Buffer::new();
        for (i, id) in ids.iter().enumerate() {
            w.write_all(n.format(i + 1).as_bytes()).map_err(fail)?;
            w.write_all(b",").map_err(fail)?;
            w.write_all(templates[*id as usize].as_bytes())
                .map_err(fail)?;
            w.write_all(b"\n").map_err(fail)?;
        }
        w.flush().map_err(fail)?;
    }
    std::fs::rename(&tmp, path).map_err(fail)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
