//! Mine a file of log messages and write `LineId,EventTemplate` (each line's final
//! template) to stdout: the miner alone, for benchmarks and grouping-accuracy runs.
//!
//!     cargo run --release -p helm-patterns --example mine -- MESSAGES.txt > assignments.csv

use std::io::{BufWriter, Write};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: mine MESSAGES.txt [--no-assign]");
    // --no-assign: mine only (no per-line output), to measure the miner's own memory.
    let assign = std::env::args().nth(2).as_deref() != Some("--no-assign");
    // The file is read first so that the timing covers the mining loop alone, as the
    // drain3 baseline's does.
    let text = std::fs::read_to_string(&path).expect("read");
    // Five runs with a fresh miner each; the median is reported (one run of 200k lines
    // takes tens of milliseconds, too short to time once).
    let mut times = Vec::new();
    let (mut miner, mut ids, mut n) = (helm_patterns::Miner::new(), Vec::new(), 0u64);
    for _ in 0..5 {
        miner = helm_patterns::Miner::new();
        ids.clear();
        n = 0;
        let start = std::time::Instant::now();
        for line in text.lines() {
            let id = miner.add(line);
            if assign {
                ids.push(id);
            }
            n += 1;
        }
        miner.consolidate();
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let secs = times[times.len() / 2];
    eprintln!(
        "lines={n} templates={} secs={secs:.3} lines_per_s={:.0}",
        miner.clusters().count(),
        n as f64 / secs
    );
    if !assign {
        return;
    }
    let mut out = BufWriter::new(std::io::stdout().lock());
    writeln!(out, "LineId,EventTemplate").unwrap();
    for (i, id) in ids.iter().enumerate() {
        let t = miner.cluster(*id).template();
        writeln!(out, "{},\"{}\"", i + 1, t.replace('"', "\"\"")).unwrap();
    }
}
