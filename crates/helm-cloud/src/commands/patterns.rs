//! `helm-cloud patterns`: the template miner on a file of log lines (or stdin).

use crate::context::Ctx;
use crate::error::{CliError, CliResult, EXIT_SOFTWARE};
use crate::table;
use helm_core::investigator::redact::redact;
use helm_patterns::{Miner, parse_line};
use serde_json::json;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

pub fn run(ctx: &Ctx, file: Option<&Path>, top: usize, assignments: Option<&Path>) -> CliResult {
    let source = file.filter(|f| *f != Path::new("-"));
    let reader: Box<dyn BufRead> = match source {
        Some(f) => Box::new(std::io::BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(f).map_err(|e| {
                CliError::usage(format!("cannot read {}: {e}", f.display()))
                    .hint("give a file of log lines, or - for stdin")
            })?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    let mut miner = Miner::new();
    let mut ids: Vec<u32> = Vec::new();
    let mut lines = 0u64;
    let mut reader = reader;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| CliError::new(EXIT_SOFTWARE, format!("reading the log lines: {e}")))?;
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&buf);
        let raw = text.trim_end_matches(['\n', '\r']);
        let line = parse_line(raw);
        let id = miner.add_with(&line.message, None, line.level);
        if assignments.is_some() {
            ids.push(id);
        }
        lines += 1;
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
        let mut w = BufWriter::new(std::fs::File::create(&tmp).map_err(fail)?);
        writeln!(w, "LineId,EventTemplate").map_err(fail)?;
        for (i, id) in ids.iter().enumerate() {
            writeln!(w, "{},{}", i + 1, templates[*id as usize]).map_err(fail)?;
        }
        w.into_inner()
            .map_err(|e| fail(e.into_error()))?
            .sync_all()
            .map_err(fail)?;
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
