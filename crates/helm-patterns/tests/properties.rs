//! Property tests (proptest) of the miner's invariants over random logs.

use helm_patterns::{Miner, parse_line};
use proptest::prelude::*;

/// Lines drawn from a few shapes with variable parts, plus arbitrary text.
fn log() -> impl Strategy<Value = Vec<String>> {
    let line = prop_oneof![
        (0u32..5000).prop_map(|n| format!("GET /api/users/{n} 200 {}ms", n % 97)),
        (0u32..500, "[a-f0-9]{8}")
            .prop_map(|(n, h)| format!("ERROR request {h} failed after {n} retries")),
        "[a-z]{1,8}( [a-z0-9]{1,8}){0,6}",
        "\\PC{0,60}",
    ];
    prop::collection::vec(line, 1..300)
}

proptest! {
    #[test]
    fn every_line_is_counted_once_in_a_live_cluster(lines in log()) {
        let mut m = Miner::new();
        let ids: Vec<u32> = lines.iter().map(|l| m.add(l)).collect();
        m.consolidate();
        let total: u64 = m.clusters().map(|c| c.count).sum();
        prop_assert_eq!(total, lines.len() as u64);
        for id in ids {
            let live = m.resolve(id);
            prop_assert!(m.clusters().any(|c| c.id == live), "{} is not live", live);
        }
    }

    #[test]
    fn a_line_seen_again_joins_the_cluster_it_joined(lines in log(), pick in any::<prop::sample::Index>()) {
        let mut m = Miner::new();
        let ids: Vec<u32> = lines.iter().map(|l| m.add(l)).collect();
        let i = pick.index(lines.len());
        let again = m.add(&lines[i]);
        prop_assert_eq!(m.resolve(again), m.resolve(ids[i]));
    }

    #[test]
    fn a_template_has_as_many_tokens_as_its_lines(lines in log()) {
        let mut m = Miner::new();
        let ids: Vec<u32> = lines.iter().map(|l| m.add(l)).collect();
        for (line, id) in lines.iter().zip(ids) {
            // Words as the miner splits them: at ASCII whitespace (U+2000 and the like stay
            // inside a word, as bytes in a log line usually are).
            let words = line.split_ascii_whitespace().count();
            let tokens = m.cluster(id).tokens().count();
            prop_assert!(words == 0 || tokens == words, "{:?}: {} tokens, {} words", line, tokens, words);
        }
    }

    #[test]
    fn a_raw_line_is_mined_as_its_parsed_message(lines in raw_lines()) {
        // add_line reads a raw line in one pass; it must give what parse_line (JSON or
        // plain, levels, lossy UTF-8) then add_with gives.
        let (mut fast, mut slow) = (Miner::new(), Miner::new());
        for raw in &lines {
            let a = fast.add_line(raw);
            let trimmed = raw.strip_suffix(b"\r").unwrap_or(raw);
            let text = String::from_utf8_lossy(trimmed);
            let line = parse_line(&text);
            let b = slow.add_with(&line.message, None, line.level);
            prop_assert_eq!(a, b);
        }
        fast.consolidate();
        slow.consolidate();
        let view = |m: &Miner| m.clusters().map(|c| (c.template(), c.count, c.level, c.sample.clone())).collect::<Vec<_>>();
        prop_assert_eq!(view(&fast), view(&slow));
    }
}

/// Raw lines as read from a file: plain, level-marked, JSON objects, `\r`-ended, blank,
/// led by spaces, tabs or a vertical tab, non-ASCII, and bytes that are not UTF-8.
fn raw_lines() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let line = prop_oneof![
        "(ERROR|\\[WARN\\]|level=info|INFO:|the)? ?[a-z]{1,8}( [a-z0-9=:.]{1,10}){0,6}"
            .prop_map(String::into_bytes),
        (
            "[ \t\x0b]{0,2}",
            "(message|msg|level|log)",
            "[a-z0-9 ]{0,20}",
            "(error|warn|x)"
        )
            .prop_map(
                |(lead, k, v, l)| format!(r#"{lead}{{"{k}":"{v}","level":"{l}"}}"#).into_bytes()
            ),
        "\\PC{0,40}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..40),
        "[a-z ]{0,20}".prop_map(|s| format!("{s}\r").into_bytes()),
    ];
    prop::collection::vec(line, 1..200)
}
