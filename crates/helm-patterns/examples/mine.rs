//! Mine a file of log messages and write `LineId,EventTemplate` (each line's final
//! template) to stdout: the miner alone, for benchmarks and grouping-accuracy runs.
//!
//!     cargo run --release -p helm-patterns --example mine -- MESSAGES.txt > assignments.csv
//!
//! `--similarity S`, `--depth D` and `--merge-min N` (0: no merge on distinct values) set
//! the configuration, `--without RULE,…` switches rules off (the leave-one-out run,
//! `scripts/bench/ga_loo.py`, chooses both).

use std::io::{BufWriter, Write};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: mine MESSAGES.txt [--no-assign]");
    let args: Vec<String> = std::env::args().collect();
    // --no-assign: mine only (no per-line output), to measure the miner's own memory.
    let assign = !args.iter().any(|a| a == "--no-assign");
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<f64>().expect("a number"))
    };
    let mut config = helm_patterns::Config::default();
    if let Some(s) = flag("--similarity") {
        config.similarity = s;
    }
    if let Some(d) = flag("--depth") {
        config.depth = d as usize;
    }
    if let Some(m) = flag("--merge-min") {
        config.variable_min_values = if m == 0.0 { usize::MAX } else { m as usize };
    }
    // --without calendar,pieces: those rules off (helm_patterns::Rules::NAMES).
    if let Some(list) = args
        .iter()
        .position(|a| a == "--without")
        .and_then(|i| args.get(i + 1))
    {
        for name in list.split(',').filter(|n| !n.is_empty()) {
            *config
                .rules
                .switch(name)
                .unwrap_or_else(|| panic!("no rule {name:?}: {:?}", helm_patterns::Rules::NAMES)) =
                false;
        }
    }
    // --threads N: time `mine_stream` instead (reading the file in batches, N masking
    // threads, as `helm-cloud patterns` does), median of 5, no output.
    if let Some(threads) = flag("--threads") {
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..5 {
            let start = std::time::Instant::now();
            let mut file = std::fs::File::open(&path).expect("open");
            let mut mined = helm_patterns::mine_stream(
                &mut file,
                helm_patterns::Miner::with_config(config.clone()),
                threads as usize,
                assign,
            )
            .expect("read");
            mined.miner.consolidate();
            times.push(start.elapsed().as_secs_f64());
            n = mined.lines;
        }
        times.sort_by(f64::total_cmp);
        let secs = times[times.len() / 2];
        eprintln!(
            "lines={n} threads={threads} secs={secs:.4} lines_per_s={:.0}",
            n as f64 / secs
        );
        return;
    }
    // The file is read first so that the timing covers the mining loop alone, as the
    // drain3 baseline's does.
    let text = std::fs::read_to_string(&path).expect("read");
    // Five runs with a fresh miner each; the median is reported (one run of 200k lines
    // takes tens of milliseconds, too short to time once).
    let mut times = Vec::new();
    let (mut miner, mut ids, mut n) = (
        helm_patterns::Miner::with_config(config.clone()),
        Vec::new(),
        0u64,
    );
    for _ in 0..5 {
        miner = helm_patterns::Miner::with_config(config.clone());
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
