//! Log template mining for helm-cloud: turns a stream of log messages into templates
//! ("Received block <*> of size <*> from <*>"), one pass, in memory bounded by the number
//! of templates, not of lines.
//!
//! The algorithm is Drain's (He et al., ICWS 2017): a fixed-depth prefix tree keyed by the
//! token count and the first tokens leads to a few candidate clusters; the most similar one
//! takes the line if it is similar enough, and its template generalises where they differ.
//! Before that, every word is masked (see [`mask`]): any piece that holds a digit is a
//! variable. One default configuration serves every log format; nothing is tuned per
//! dataset.
//!
//! This crate depends on no other helm crate, so it can be benchmarked and reused alone.

pub mod line;
pub mod mask;
pub mod stream;

use rustc_hash::FxHashMap as HashMap;

pub use line::{Level, LogLine, parse_line};
pub use mask::{Masked, MaskedRef, Scanned, WILDCARD, mask_line};
pub use stream::{Mined, mine_stream};

/// The miner's settings. `Default` is the one configuration used everywhere.
#[derive(Debug, Clone)]
pub struct Config {
    /// Share of equal tokens a line needs to join a cluster.
    pub similarity: f64,
    /// Prefix-tree depth: the token count, then `depth - 2` leading tokens.
    pub depth: usize,
    /// Children per tree node before new tokens go to the wildcard child.
    pub max_children: usize,
    /// How many different plain words a position must take before the merge pass counts
    /// it as a variable (`usize::MAX`: only positions already holding a variable merge).
    pub variable_min_values: usize,
    /// Which masking and merge rules apply (all by default).
    pub rules: Rules,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            similarity: 0.5,
            depth: 4,
            max_children: 100,
            variable_min_values: 4,
            rules: Rules::default(),
        }
    }
}

/// The miner's rules, each on by default. Each can be switched off so that the
/// leave-one-out run (`scripts/bench/ga_loo.py`) chooses them, like the settings, on nine
/// systems without looking at the tenth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Day and month names are parts of timestamps: masked.
    pub calendar: bool,
    /// A size unit after a number ("384 B", "2.1 KB") is masked with it.
    pub size_units: bool,
    /// Only the pieces of a word that hold a digit are masked (`id=<*>`), not the word.
    pub pieces: bool,
    /// A run of masked pieces joined by `:/@,|.` is one `<*>` (`10.0.0.1:50010`).
    pub join_runs: bool,
    /// The merge pass leaves the first word alone: it names the event.
    pub keep_first_word: bool,
    /// The merge pass needs a plain word elsewhere to anchor the event.
    pub anchor: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            calendar: true,
            size_units: true,
            pieces: true,
            join_runs: true,
            keep_first_word: true,
            anchor: true,
        }
    }
}

impl Rules {
    /// The rules' names, as `--without` takes them.
    pub const NAMES: [&'static str; 6] = [
        "calendar",
        "size-units",
        "pieces",
        "join-runs",
        "first-word",
        "anchor",
    ];

    /// The rule named `name`, to switch (None: no such rule).
    pub fn switch(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "calendar" => &mut self.calendar,
            "size-units" => &mut self.size_units,
            "pieces" => &mut self.pieces,
            "join-runs" => &mut self.join_runs,
            "first-word" => &mut self.keep_first_word,
            "anchor" => &mut self.anchor,
            _ => return None,
        })
    }
}

/// Index of a cluster in [`Miner::clusters`].
pub type ClusterId = u32;

/// One template and what was seen of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub id: ClusterId,
    tokens: Vec<Box<str>>,
    pub count: u64,
    /// Epoch milliseconds of the first and last line, when lines carry times.
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    /// The first line of the cluster, as given.
    pub sample: String,
    /// The most severe level seen.
    pub level: Option<Level>,
}

impl Cluster {
    /// The template, tokens joined by single spaces.
    pub fn template(&self) -> String {
        self.tokens.join(" ")
    }

    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().map(|t| t.as_ref())
    }
}

/// A token (of a template, or a masked word of the line being mined) that holds a masked
/// part: it differs from line to line by nature.
#[inline]
fn is_variable(token: &[u8]) -> bool {
    memchr::memmem::find(token, WILDCARD.as_bytes()).is_some()
}

/// Masked lines remembered for the fast path (memory stays bounded however long the log).
const SEEN_CAPACITY: usize = 50_000;

#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<[u8]>, Node>,
    clusters: Vec<ClusterId>,
}

/// A streaming template miner.
#[derive(Debug, Default)]
pub struct Miner {
    config: Config,
    /// Root children by token count.
    roots: HashMap<usize, Node>,
    clusters: Vec<Cluster>,
    /// Where a cluster went when the merge pass folded it into another (itself otherwise).
    redirect: Vec<ClusterId>,
    /// Masked lines seen before and the cluster they joined: most lines of a log repeat an
    /// earlier line once masked, and skip the tree search. Bounded by `SEEN_CAPACITY`.
    seen: HashMap<Box<[u8]>, ClusterId>,
    /// Scratch space reused for every line: its masked words.
    line: Masked,
}

impl Miner {
    pub fn new() -> Self {
        Self::with_config(Config::default())
    }

    pub fn with_config(config: Config) -> Self {
        Miner {
            config,
            ..Default::default()
        }
    }

    /// Mine one message; returns its cluster.
    pub fn add(&mut self, message: &str) -> ClusterId {
        self.add_with(message, None, None)
    }

    /// Mine one message with its time (epoch ms) and level.
    pub fn add_with(
        &mut self,
        message: &str,
        time_ms: Option<i64>,
        level: Option<Level>,
    ) -> ClusterId {
        let mut line = std::mem::take(&mut self.line);
        mask_line(message.as_bytes(), &self.config.rules, false, &mut line);
        let id = self.place(line.as_ref(), message.as_bytes(), time_ms, level);
        self.line = line;
        id
    }

    /// Mine one raw line as it was read: a JSON object gives its message and level (see
    /// [`parse_line`]), a plain line is its own message with the level its first words
    /// mark; a trailing `\r` is dropped, and bytes that are not UTF-8 become U+FFFD. Same
    /// result as [`parse_line`] then [`Miner::add_with`], in one pass over a plain line.
    pub fn add_line(&mut self, raw: &[u8]) -> ClusterId {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        let read = read_line(raw, &self.config.rules, &mut line.text, &mut line.bounds);
        let message = read.message.as_deref().map_or(read.raw, str::as_bytes);
        let id = self.place(line.as_ref(), message, None, read.level);
        self.line = line;
        id
    }

    /// File a masked line in its cluster; `message` is its UTF-8 text (the sample of a new
    /// cluster).
    pub(crate) fn place(
        &mut self,
        line: MaskedRef<'_>,
        message: &[u8],
        time_ms: Option<i64>,
        level: Option<Level>,
    ) -> ClusterId {
        // A cluster only generalises, so a masked line that joined it once still fits it.
        let id = match self.seen.get(line.key()) {
            Some(&id) => self.resolve(id),
            None => {
                let id = match self.find(line) {
                    Some((id, exact)) => {
                        if !exact {
                            self.generalise(id, line);
                        }
                        id
                    }
                    None => self.create(line, message),
                };
                if self.seen.len() < SEEN_CAPACITY {
                    self.seen.insert(line.key().into(), id);
                }
                id
            }
        };
        let c = &mut self.clusters[id as usize];
        c.count += 1;
        if let Some(t) = time_ms {
            c.first_seen = Some(c.first_seen.map_or(t, |f| f.min(t)));
            c.last_seen = Some(c.last_seen.map_or(t, |l| l.max(t)));
        }
        if level > c.level {
            c.level = level;
        }
        id
    }

    /// The live clusters (those not folded into another by [`Miner::consolidate`]).
    pub fn clusters(&self) -> impl Iterator<Item = &Cluster> {
        self.clusters
            .iter()
            .filter(|c| self.redirect[c.id as usize] == c.id)
    }

    /// The cluster an id stands for now (following merges).
    pub fn cluster(&self, id: ClusterId) -> &Cluster {
        &self.clusters[self.resolve(id) as usize]
    }

    /// The live cluster id an id stands for now.
    pub fn resolve(&self, mut id: ClusterId) -> ClusterId {
        while self.redirect[id as usize] != id {
            id = self.redirect[id as usize];
        }
        id
    }

    /// The merge pass: clusters of the same length that differ only at one position, where
    /// that position takes at least four different words (or already a wildcard), become
    /// one cluster with a wildcard there. A few values stay separate events ("initialization"
    /// and "finalization"); many are a variable (user names). Repeated until nothing changes.
    /// Cheap (proportional to clusters, not lines); mining may go on afterwards.
    pub fn consolidate(&mut self) {
        loop {
            let mut merged_any = false;
            let mut lengths: Vec<usize> = self.roots.keys().copied().collect();
            lengths.sort_unstable();
            for len in lengths {
                // Never the first word: it names the event ("cupsd startup succeeded").
                let first = usize::from(self.config.rules.keep_first_word);
                for p in first..len {
                    // Live clusters of this length, grouped by every token but position p.
                    // Variable tokens match any variable token ("rhost=<*>" and "<*>").
                    let mut groups: HashMap<Vec<&str>, Vec<ClusterId>> = HashMap::default();
                    for c in self
                        .clusters
                        .iter()
                        .filter(|c| c.tokens.len() == len && self.redirect[c.id as usize] == c.id)
                    {
                        let key: Vec<&str> = c
                            .tokens
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != p)
                            .map(|(_, t)| {
                                if is_variable(t.as_bytes()) {
                                    WILDCARD
                                } else {
                                    t.as_ref()
                                }
                            })
                            .collect();
                        groups.entry(key).or_default().push(c.id);
                    }
                    let mut merges: Vec<Vec<ClusterId>> = Vec::new();
                    // The rest must hold a plain word to anchor the event ("<*> <*>" is no event).
                    for ids in groups
                        .into_iter()
                        .filter(|(key, ids)| {
                            ids.len() > 1
                                && (!self.config.rules.anchor
                                    || key.iter().any(|t| !is_variable(t.as_bytes())))
                        })
                        .map(|(_, ids)| ids)
                    {
                        let mut values: Vec<&str> = ids
                            .iter()
                            .map(|&id| self.clusters[id as usize].tokens[p].as_ref())
                            .collect();
                        values.sort_unstable();
                        values.dedup();
                        let variable = values.iter().any(|v| is_variable(v.as_bytes()))
                            || values.len() >= self.config.variable_min_values;
                        if variable {
                            merges.push(ids);
                        }
                    }
                    for mut ids in merges {
                        ids.sort_unstable();
                        self.merge(&ids, p);
                        merged_any = true;
                    }
                }
            }
            if !merged_any {
                return;
            }
        }
    }

    /// Fold `ids` into the first of them, with a wildcard at `position` and wherever else
    /// their (variable) tokens differ.
    fn merge(&mut self, ids: &[ClusterId], position: usize) {
        let keep = ids[0];
        self.clusters[keep as usize].tokens[position] = WILDCARD.into();
        for &id in &ids[1..] {
            for i in 0..self.clusters[keep as usize].tokens.len() {
                if self.clusters[id as usize].tokens[i] != self.clusters[keep as usize].tokens[i] {
                    self.clusters[keep as usize].tokens[i] = WILDCARD.into();
                }
            }
        }
        for &id in &ids[1..] {
            let gone = self.clusters[id as usize].clone();
            let k = &mut self.clusters[keep as usize];
            k.count += gone.count;
            k.first_seen = min_opt(k.first_seen, gone.first_seen);
            k.last_seen = max_opt(k.last_seen, gone.last_seen);
            k.level = k.level.max(gone.level);
            self.redirect[id as usize] = keep;
        }
        // The folded clusters leave the tree; the kept one stays where it was.
        let dead: Vec<ClusterId> = ids[1..].to_vec();
        for root in self.roots.values_mut() {
            prune(root, &dead);
        }
    }

    /// The tree keys of the current line: up to `depth - 2` leading tokens.
    fn prefix_len(&self, line: MaskedRef<'_>) -> usize {
        line.len().min(self.config.depth.saturating_sub(2))
    }

    fn leaf(&self, line: MaskedRef<'_>) -> Option<&Node> {
        let mut node = self.roots.get(&line.len())?;
        for i in 0..self.prefix_len(line) {
            let t = line.word(i);
            node = match node.children.get(t) {
                Some(n) => n,
                None => node.children.get(WILDCARD.as_bytes())?,
            };
        }
        Some(node)
    }

    /// The cluster the current line joins, and whether it matched the template exactly.
    fn find(&self, line: MaskedRef<'_>) -> Option<(ClusterId, bool)> {
        let leaf = self.leaf(line)?;
        let n = line.len();
        let mut best: Option<(ClusterId, f64, usize)> = None;
        for &id in &leaf.clusters {
            let c = &self.clusters[id as usize];
            let mut same = 0usize;
            let mut params = 0usize;
            let mut compatible = true;
            for (i, t) in c.tokens.iter().enumerate() {
                let tok = line.word(i);
                if t.as_bytes() == tok {
                    same += 1;
                } else if t.as_ref() == WILDCARD {
                    params += 1;
                } else if !is_variable(t.as_bytes()) || !is_variable(tok) {
                    // Two different plain words: maybe a variable (a user name), maybe two
                    // events (initialization / finalization). Kept apart here; the merge
                    // pass decides from how many values the position takes.
                    compatible = false;
                    break;
                }
            }
            if !compatible {
                continue;
            }
            let sim = if n == 0 { 1.0 } else { same as f64 / n as f64 };
            let better = match best {
                None => true,
                Some((_, s, p)) => sim > s || (sim == s && params > p),
            };
            if better {
                best = Some((id, sim, params));
            }
        }
        best.filter(|(_, sim, _)| *sim >= self.config.similarity)
            .map(|(id, _, params)| {
                let same = self.clusters[id as usize]
                    .tokens
                    .iter()
                    .enumerate()
                    .filter(|(i, t)| t.as_bytes() == line.word(*i))
                    .count();
                (id, same + params == n)
            })
    }

    fn generalise(&mut self, id: ClusterId, line: MaskedRef<'_>) {
        let c = &mut self.clusters[id as usize];
        for (t, word) in c.tokens.iter_mut().zip(line.words()) {
            if t.as_bytes() != word && t.as_ref() != WILDCARD {
                *t = WILDCARD.into();
            }
        }
    }

    fn create(&mut self, line: MaskedRef<'_>, message: &[u8]) -> ClusterId {
        let id = self.clusters.len() as ClusterId;
        // Words of a UTF-8 line cut at ASCII bytes: UTF-8 (the lossy form never replaces).
        let tokens: Vec<Box<str>> = line
            .words()
            .map(|w| String::from_utf8_lossy(w).into())
            .collect();
        let prefix_len = self.prefix_len(line);
        let max_children = self.config.max_children;
        let mut node = self.roots.entry(tokens.len()).or_default();
        for t in &tokens[..prefix_len] {
            // A known token, or room for a new one: its own child; else the wildcard child.
            let t = t.as_bytes();
            let own = node.children.contains_key(t)
                || (t != WILDCARD.as_bytes() && node.children.len() + 1 < max_children);
            let key: &[u8] = if own { t } else { WILDCARD.as_bytes() };
            if !node.children.contains_key(key) {
                node.children.insert(key.into(), Node::default());
            }
            node = node.children.get_mut(key).expect("inserted above");
        }
        node.clusters.push(id);
        self.redirect.push(id);
        self.clusters.push(Cluster {
            id,
            tokens,
            count: 0,
            first_seen: None,
            last_seen: None,
            sample: String::from_utf8_lossy(message).into_owned(),
            level: None,
        });
        id
    }
}

/// A raw line masked (appended to `text` and `bounds`) the way [`Miner::add_line`] reads it.
pub(crate) struct ReadLine<'a> {
    /// The line without its `\r`.
    raw: &'a [u8],
    /// The message, when it is not the raw line itself (a JSON object, a line not UTF-8).
    message: Option<String>,
    level: Option<Level>,
}

/// Mask a raw line as [`Miner::add_line`] reads it: a plain UTF-8 line in one pass over its
/// bytes, anything else through [`parse_line`].
#[inline]
pub(crate) fn read_line<'a>(
    raw: &'a [u8],
    rules: &Rules,
    text: &mut Vec<u8>,
    bounds: &mut Vec<(u32, u32)>,
) -> ReadLine<'a> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    // What `trim_start` would stop at, if ASCII (it also takes a vertical tab for a space).
    let first = raw.iter().find(|b| !b.is_ascii_whitespace() && **b != 0x0b);
    let (text_len, bounds_len) = (text.len(), bounds.len());
    if first.is_none_or(|b| *b != b'{' && b.is_ascii()) {
        let scan = mask::mask_into(raw, rules, true, text, bounds);
        if scan.ascii || std::str::from_utf8(raw).is_ok() {
            return ReadLine {
                raw,
                message: None,
                level: scan.level,
            };
        }
        text.truncate(text_len);
        bounds.truncate(bounds_len);
    }
    // A JSON object, a line that starts with a non-ASCII character (which `trim_start`
    // may take for a space) or one that is not UTF-8: the general way.
    let lossy = String::from_utf8_lossy(raw);
    let line = parse_line(&lossy);
    mask::mask_into(line.message.as_bytes(), rules, false, text, bounds);
    ReadLine {
        raw,
        message: Some(line.message.into_owned()),
        level: line.level,
    }
}

fn prune(node: &mut Node, dead: &[ClusterId]) {
    node.clusters.retain(|id| !dead.contains(id));
    for child in node.children.values_mut() {
        prune(child, dead);
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mined(lines: &[&str], without: &[&str]) -> Vec<String> {
        let mut config = Config::default();
        for w in without {
            *config.rules.switch(w).unwrap() = false;
        }
        let mut m = Miner::with_config(config);
        for l in lines {
            m.add(l);
        }
        m.consolidate();
        let mut t: Vec<String> = m.clusters().map(|c| c.template()).collect();
        t.sort();
        t
    }

    #[test]
    fn each_rule_switched_off_changes_only_what_it_names() {
        let one = |line: &str, without: &[&str]| mined(&[line], without).remove(0);
        assert_eq!(one("at Thu 09", &[]), "at <*> <*>");
        assert_eq!(one("at Thu 09", &["calendar"]), "at Thu <*>");
        assert_eq!(one("got 384 B", &[]), "got <*> <*>");
        assert_eq!(one("got 384 B", &["size-units"]), "got <*> B");
        assert_eq!(one("read id=12", &[]), "read id=<*>");
        assert_eq!(one("read id=12", &["pieces"]), "read <*>");
        assert_eq!(one("to 10.0.0.1:50010", &[]), "to <*>");
        assert_eq!(
            one("to 10.0.0.1:50010", &["join-runs"]),
            "to <*>.<*>.<*>.<*>:<*>"
        );
        // The first word names the event: only without that rule do five events merge.
        let events = ["open x", "close x", "read x", "write x", "seek x"];
        assert_eq!(mined(&events, &[]).len(), 5);
        assert_eq!(mined(&events, &["first-word"]), vec!["<*> x"]);
        // Nothing plain left to anchor an event: only without that rule do they merge.
        let loose = ["1 a 2", "3 b 4", "5 c 6", "7 d 8"];
        assert_eq!(mined(&loose, &[]).len(), 4);
        assert_eq!(mined(&loose, &["anchor"]), vec!["<*> <*> <*>"]);
        let mut r = Rules::default();
        for n in Rules::NAMES {
            *r.switch(n).unwrap() = false;
        }
        assert!(r.switch("vibes").is_none());
        assert_eq!(
            r,
            Rules {
                calendar: false,
                size_units: false,
                pieces: false,
                join_runs: false,
                keep_first_word: false,
                anchor: false
            }
        );
    }

    #[test]
    fn similar_lines_share_a_template_and_variables_are_masked() {
        let mut m = Miner::new();
        let a = m.add("Received block blk_123 of size 67108864 from /10.250.19.102");
        let b = m.add("Received block blk_-99 of size 3 from /10.250.10.6");
        let c = m.add("PacketResponder 1 for block blk_38865049064139660 terminating");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            m.cluster(a).template(),
            "Received block <*> of size <*> from /<*>"
        );
        assert_eq!(m.cluster(a).count, 2);
        assert_eq!(
            m.cluster(c).template(),
            "PacketResponder <*> for block <*> terminating"
        );
    }

    #[test]
    fn a_word_with_many_values_is_a_variable_and_two_values_are_two_events() {
        let mut m = Miner::new();
        let a = m.add("Invalid user webmaster from 173.234.31.186");
        let b = m.add("Invalid user admin from 52.80.34.196");
        let c = m.add("Invalid user oracle from 52.80.34.196");
        m.add("Invalid user test from 52.80.34.197");
        let s = m.add("Starting TrustedInstaller initialization.");
        let f = m.add("Starting TrustedInstaller finalization.");
        m.consolidate();
        assert_eq!(m.resolve(a), m.resolve(b));
        assert_eq!(m.resolve(a), m.resolve(c));
        assert_eq!(m.cluster(a).template(), "Invalid user <*> from <*>");
        assert_eq!(m.cluster(a).count, 4);
        assert_eq!(
            m.cluster(a).sample,
            "Invalid user webmaster from 173.234.31.186"
        );
        assert_ne!(m.resolve(s), m.resolve(f));
        assert_eq!(m.clusters().count(), 3);
        // Mining goes on after a merge: a new user name joins the merged cluster.
        let d = m.add("Invalid user guest from 10.0.0.1");
        assert_eq!(m.resolve(d), m.resolve(a));
    }

    #[test]
    fn times_levels_and_counts_are_kept() {
        let mut m = Miner::new();
        m.add_with(
            "Task timed out after 3.00 seconds",
            Some(2000),
            Some(Level::Error),
        );
        let id = m.add_with(
            "Task timed out after 6.01 seconds",
            Some(1000),
            Some(Level::Info),
        );
        let c = m.cluster(id);
        assert_eq!(
            (c.first_seen, c.last_seen, c.count),
            (Some(1000), Some(2000), 2)
        );
        assert_eq!(c.level, Some(Level::Error));
    }

    #[test]
    fn mining_is_deterministic() {
        let lines = ["a 1 b", "a 2 b", "c d e", "a x b", "c d f"];
        let run = || {
            let mut m = Miner::new();
            let ids: Vec<_> = lines.iter().map(|l| m.add(l)).collect();
            m.consolidate();
            (ids, m.clusters().map(Cluster::template).collect::<Vec<_>>())
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn memory_is_bounded_by_templates_not_lines() {
        let mut m = Miner::new();
        for i in 0..10_000 {
            m.add(&format!("request {i} served in {}ms", i % 97));
        }
        assert_eq!(m.clusters().count(), 1);
        assert_eq!(m.cluster(0).count, 10_000);
    }

    #[test]
    fn every_line_gets_its_clusters_final_template() {
        let mut m = Miner::new();
        let first = m.add("user alice logged in from 10.0.0.1");
        let ids: Vec<_> = ["bob", "carol", "dave", "erin"]
            .iter()
            .map(|u| m.add(&format!("user {u} logged in from 10.0.0.2")))
            .collect();
        m.consolidate();
        // The first line was mined when the template still said "alice": it gets the final one.
        assert_eq!(m.cluster(first).template(), "user <*> logged in from <*>");
        assert!(ids.iter().all(|id| m.resolve(*id) == m.resolve(first)));
    }

    #[test]
    fn json_lines_are_mined_on_their_message() {
        let mut m = Miner::new();
        let a = parse_line(r#"{"level":"error","message":"payment 4411 failed","trace":"x1"}"#);
        let b = parse_line(r#"{"level":"error","message":"payment 9 failed","trace":"y2"}"#);
        let ia = m.add_with(&a.message, None, a.level);
        let ib = m.add_with(&b.message, None, b.level);
        assert_eq!(ia, ib);
        assert_eq!(m.cluster(ia).template(), "payment <*> failed");
        assert_eq!(m.cluster(ia).level, Some(Level::Error));
    }

    #[test]
    fn empty_lines_form_one_cluster() {
        let mut m = Miner::new();
        assert_eq!(m.add(""), m.add("   "));
    }
}
