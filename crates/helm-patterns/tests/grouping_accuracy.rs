//! Grouping accuracy regression on two Loghub-2k systems, with the one default
//! configuration. GA (Zhu et al., ICSE-SEIP 2019): a line is right when the set of lines
//! in its predicted group equals the set in its ground-truth group.

use helm_patterns::Miner;
use std::collections::HashMap;

fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn grouping_accuracy(system: &str) -> f64 {
    // The crate folder cargo gives the test at run time: a compiled-in one can name another
    // clone built into the same target folder.
    let crate_dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
    let dir = format!("{crate_dir}/tests/data");
    let content = std::fs::read_to_string(format!("{dir}/{system}_2k.log_content.txt")).unwrap();
    let truth_csv =
        std::fs::read_to_string(format!("{dir}/{system}_2k.log_structured.csv")).unwrap();
    let header = csv_fields(truth_csv.lines().next().unwrap());
    let event_col = header.iter().position(|h| h == "EventId").unwrap();
    let truth: Vec<String> = truth_csv
        .lines()
        .skip(1)
        .map(|l| csv_fields(l)[event_col].clone())
        .collect();

    let mut miner = Miner::new();
    let ids: Vec<u32> = content.lines().map(|l| miner.add(l)).collect();
    miner.consolidate();
    let predicted: Vec<String> = ids.iter().map(|id| miner.cluster(*id).template()).collect();
    assert_eq!(predicted.len(), truth.len(), "one prediction per line");

    let mut truth_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut pred_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (t, p)) in truth.iter().zip(&predicted).enumerate() {
        truth_groups.entry(t).or_default().push(i);
        pred_groups.entry(p).or_default().push(i);
    }
    let correct: usize = truth
        .iter()
        .zip(&predicted)
        .filter(|(t, p)| truth_groups[t.as_str()] == pred_groups[p.as_str()])
        .count();
    correct as f64 / truth.len() as f64
}

#[test]
fn hdfs_grouping_accuracy_stays_above_0_99() {
    let ga = grouping_accuracy("HDFS");
    assert!(ga >= 0.99, "HDFS GA {ga}");
}

#[test]
fn linux_grouping_accuracy_stays_above_0_90() {
    let ga = grouping_accuracy("Linux");
    assert!(ga >= 0.90, "Linux GA {ga}");
}
