//! Masking the variable parts of a word: any piece between delimiters that holds a digit
//! (numbers, hex, UUIDs, request ids, IPs, ports, timestamps, durations, versions, ARNs'
//! account and ids) becomes `<*>`, and a run of masked pieces joined only by delimiters
//! (`10.0.0.1:50010`, `20:30:31.455`) collapses into one `<*>`. No regular expression:
//! one pass over the bytes, which is what keeps the miner fast.

use crate::line::Level;

/// The placeholder for a variable part.
pub const WILDCARD: &str = "<*>";

/// Byte classes: 1 | [`STOP`] a delimiter (ends a piece inside a word), 3 a delimiter that
/// may join two masked pieces into one, [`DIGIT`] a digit, [`SPACE`] ASCII whitespace (ends
/// a word), [`WIDE`] a byte of a non-ASCII character, [`OTHER`] anything else.
const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let spaces = b" \t\n\x0c\r";
    let mut i = 0;
    while i < spaces.len() {
        t[spaces[i] as usize] = SPACE;
        i += 1;
    }
    let mut b = 0x80;
    while b < 256 {
        t[b] = WIDE;
        b += 1;
    }
    let delims = b"=;()[]{}\"'\\<>#";
    let mut i = 0;
    while i < delims.len() {
        t[delims[i] as usize] = 1 | STOP;
        i += 1;
    }
    let joins = b":/@,|.";
    let mut i = 0;
    while i < joins.len() {
        t[joins[i] as usize] = 3;
        i += 1;
    }
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = 4;
        d += 1;
    }
    t
};

const DIGIT: u8 = 4;
const SPACE: u8 = 8;
const WIDE: u8 = 16;
const OTHER: u8 = 32;
/// A delimiter that does not join masked pieces.
const STOP: u8 = 64;

#[inline]
fn is_delim(b: u8) -> bool {
    CLASS[b as usize] & 1 == 1
}

#[inline]
fn joins(b: u8) -> bool {
    CLASS[b as usize] == 3
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `v` that is an ASCII digit, exact for the lowest one (a
/// byte above a digit may be marked too), which is all "any digit among the first k bytes"
/// needs. ASCII only: a byte with the high bit set is never marked.
#[inline]
fn digits(v: u64) -> u64 {
    // Digits become 0x00..=0x09 (and only they, for ASCII); below 10 borrows into the high
    // bit (the classic "has less than" trick per byte).
    let x = v ^ (ONES * 0x30);
    x.wrapping_sub(ONES * 10) & !x & HIGHS
}

/// The high bit of each byte of `v` equal to `b`, exactly (no carry crosses a byte).
#[inline]
fn equal_to(v: u64, b: u8) -> u64 {
    let x = v ^ (ONES * u64::from(b));
    !(((x & !HIGHS) + !HIGHS) | x | !HIGHS)
}

/// Whether any byte is an ASCII digit, eight bytes at a time.
#[inline]
fn has_digit(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        if digits(u64::from_le_bytes(c.try_into().expect("8 bytes"))) != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b.is_ascii_digit())
}

/// Day and month names are parts of timestamps ("Thu Aug 11", "Jun 14 15:16:01").
#[inline]
fn is_calendar_word(w: &[u8]) -> bool {
    const NAMES: [&[u8; 3]; 19] = [
        b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun", b"Jan", b"Feb", b"Mar", b"Apr",
        b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    w.len() == 3 && NAMES.iter().any(|n| n[..] == *w)
}

/// Units of size that follow a number and change with its magnitude.
fn is_size_unit(word: &[u8]) -> bool {
    const UNITS: [&[u8]; 14] = [
        b"B", b"KB", b"MB", b"GB", b"TB", b"PB", b"KiB", b"MiB", b"GiB", b"TiB", b"kB", b"bytes",
        b"k", b"M",
    ];
    let mut w = word;
    while let [rest @ .., b',' | b')' | b';'] = w {
        w = rest;
    }
    UNITS.contains(&w)
}

/// Append the masked form of `word` to `out` (every rule on).
pub fn mask_word(word: &str, out: &mut String) {
    mask_word_with(word, out, &crate::Rules::default());
}

/// Append the masked form of `word` to `out`, under `rules`.
pub fn mask_word_with(word: &str, out: &mut String, rules: &crate::Rules) {
    let mut masked = Vec::with_capacity(word.len());
    mask_bytes(word.as_bytes(), &mut masked, rules);
    // Cut only at ASCII bytes, so a word that was UTF-8 stays UTF-8.
    out.push_str(&String::from_utf8_lossy(&masked));
}

/// The masked form of one word (no whitespace in it), appended to `out`.
#[inline]
fn mask_bytes(word: &[u8], out: &mut Vec<u8>, rules: &crate::Rules) {
    if rules.calendar && is_calendar_word(word) {
        out.extend_from_slice(WILDCARD.as_bytes());
    } else if !has_digit(word) {
        // A word without a digit is its own mask.
        out.extend_from_slice(word);
    } else if !rules.pieces {
        out.extend_from_slice(WILDCARD.as_bytes());
    } else {
        mask_pieces(word, out, rules.join_runs);
    }
}

/// A word with a digit: each piece between delimiters that holds a digit becomes `<*>`,
/// and (with `join_runs`) a run of them joined only by `:/@,|.` becomes one.
fn mask_pieces(word: &[u8], out: &mut Vec<u8>, join_runs: bool) {
    // Most such words are one piece (`blk_-160899`, `67108864`) or digits joined by `.:/`
    // (`/10.251.43.21:50010`): told apart in one branchless pass over the bytes.
    let classes = word.iter().fold(0, |c, &b| c | CLASS[b as usize]);
    if classes & 1 == 0 {
        out.extend_from_slice(WILDCARD.as_bytes());
        return;
    }
    if join_runs && classes & (STOP | OTHER | WIDE) == 0 {
        // Joiners before the first digit, the run as one `<*>`, joiners after the last.
        let first = word.iter().position(u8::is_ascii_digit).unwrap_or(0);
        let last = word.iter().rposition(u8::is_ascii_digit).unwrap_or(0);
        out.extend_from_slice(&word[..first]);
        out.extend_from_slice(WILDCARD.as_bytes());
        out.extend_from_slice(&word[last + 1..]);
        return;
    }
    piece_by_piece(word, out, join_runs);
}

/// [`mask_pieces`] the long way, any word: piece by piece between delimiters.
fn piece_by_piece(word: &[u8], out: &mut Vec<u8>, join_runs: bool) {
    // Where the last wildcard written for this word ends, to collapse `<*>:<*>` into `<*>`.
    let mut last_mask_end: Option<usize> = None;
    let mut i = 0;
    while i < word.len() {
        if is_delim(word[i]) {
            let d = i;
            while i < word.len() && is_delim(word[i]) {
                i += 1;
            }
            out.extend_from_slice(&word[d..i]);
            continue;
        }
        let seg_start = i;
        let mut has_digit = false;
        while i < word.len() && !is_delim(word[i]) {
            has_digit |= CLASS[word[i] as usize] == DIGIT;
            i += 1;
        }
        if has_digit {
            if let Some(end) = last_mask_end.filter(|_| join_runs)
                && out.len() > end
                && out[end..].iter().all(|&c| joins(c))
            {
                out.truncate(end);
                continue;
            }
            out.extend_from_slice(WILDCARD.as_bytes());
            last_mask_end = Some(out.len());
        } else {
            out.extend_from_slice(&word[seg_start..i]);
            last_mask_end = None;
        }
    }
}

/// A line cut into masked words: the words back to back, each followed by 0x1f (so that
/// "a b" and "ab" stay apart when the whole is a key), and where each word is.
#[derive(Debug, Default, Clone)]
pub struct Masked {
    pub(crate) text: Vec<u8>,
    pub(crate) bounds: Vec<(u32, u32)>,
}

impl Masked {
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.bounds.clear();
    }

    pub fn as_ref(&self) -> MaskedRef<'_> {
        MaskedRef {
            key: &self.text,
            bounds: &self.bounds,
        }
    }
}

/// A masked line held elsewhere (in a [`Masked`], or in a batch of lines masked together).
#[derive(Debug, Clone, Copy)]
pub struct MaskedRef<'a> {
    pub(crate) key: &'a [u8],
    /// Where each word is in `key`.
    pub(crate) bounds: &'a [(u32, u32)],
}

impl<'a> MaskedRef<'a> {
    /// The masked line as one key: every word followed by 0x1f.
    #[inline]
    pub fn key(&self) -> &'a [u8] {
        self.key
    }

    /// How many words.
    #[inline]
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    /// The `i`th masked word.
    #[inline]
    pub fn word(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.bounds[i];
        &self.key[s as usize..e as usize]
    }

    pub fn words(&self) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let this = *self;
        (0..this.len()).map(move |i| this.word(i))
    }
}

/// What a scan of a line found besides its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// The level marker among the first six words (when asked for).
    pub level: Option<Level>,
    /// Whether every byte was ASCII (else the caller checks that the line is UTF-8).
    pub ascii: bool,
}

/// Mask a whole line in one pass over its bytes, eight at a time: cut it into words at
/// ASCII whitespace, mask each word as [`mask_word_with`] does (and a size unit after a
/// number), find the level marker among the first six words when `levels` is set (as
/// [`crate::line::parse_line`] does for a plain line), and note whether every byte is
/// ASCII. The masked words are cut only at ASCII bytes, so a UTF-8 line gives UTF-8 words.
pub fn mask_line(line: &[u8], rules: &crate::Rules, levels: bool, out: &mut Masked) -> Scanned {
    out.clear();
    mask_into(line, rules, levels, &mut out.text, &mut out.bounds)
}

/// [`mask_line`] appending to `text` and `bounds` (which then count from where `text`
/// ended), so that a batch of lines is masked into one buffer.
#[inline]
pub(crate) fn mask_into(
    line: &[u8],
    rules: &crate::Rules,
    levels: bool,
    text: &mut Vec<u8>,
    bounds: &mut Vec<(u32, u32)>,
) -> Scanned {
    if line.len() < BITMAP_BYTES
        && let Some(scanned) = by_bitmaps(line, rules, levels, text, bounds)
    {
        return scanned;
    }
    byte_by_byte(line, rules, levels, text, bounds)
}

/// Lines shorter than this are masked [`by_bitmaps`] (most log lines are); longer ones
/// [`byte_by_byte`].
const BITMAP_BYTES: usize = 512;

/// What sixteen bytes of a line hold, one bit per byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Classes {
    /// Spaces and tabs (the word separators of a line without other control bytes).
    spaces: u16,
    digits: u16,
    /// A byte of a non-ASCII character.
    high: bool,
    /// A control byte other than a tab.
    control: bool,
}

/// [`Classes`] of sixteen bytes: SSE2 on x86_64 (a dozen instructions), else eight bytes at
/// a time in a `u64`.
#[inline]
fn classify(chunk: [u8; 16]) -> Classes {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: SSE2 is part of x86_64 itself: every x86_64 processor has it, and rustc
        // enables it for every x86_64 target, so the target feature is always present.
        unsafe { classify_sse2(chunk) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        classify_swar(chunk)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn classify_sse2(chunk: [u8; 16]) -> Classes {
    use std::arch::x86_64::*;
    let lo = i64::from_le_bytes(chunk[..8].try_into().expect("8 bytes"));
    let hi = i64::from_le_bytes(chunk[8..].try_into().expect("8 bytes"));
    let v = _mm_set_epi64x(hi, lo);
    let is = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
    let tabs = is(b'\t');
    let spaces = _mm_or_si128(is(b' '), tabs);
    // Signed compares: a byte of 0x80 and above is negative, so neither a digit nor a
    // control byte.
    let digits = _mm_and_si128(
        _mm_cmpgt_epi8(v, _mm_set1_epi8(0x2f)),
        _mm_cmplt_epi8(v, _mm_set1_epi8(0x3a)),
    );
    let controls = _mm_andnot_si128(
        tabs,
        _mm_and_si128(
            _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
            _mm_cmpgt_epi8(v, _mm_set1_epi8(-1)),
        ),
    );
    Classes {
        spaces: _mm_movemask_epi8(spaces) as u16,
        digits: _mm_movemask_epi8(digits) as u16,
        high: _mm_movemask_epi8(v) != 0,
        control: _mm_movemask_epi8(controls) != 0,
    }
}

/// [`classify`] eight bytes at a time in a `u64`, without SIMD instructions.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classify_swar(chunk: [u8; 16]) -> Classes {
    // The high bit of each byte of `m` (which holds only high bits) as one bit per byte.
    let bits = |m: u64| (m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    let half = |v: u64| {
        let ascii = v & !HIGHS;
        let at_least = |b: u8| (ascii + ONES * u64::from(0x80 - b)) & HIGHS;
        let highs = v & HIGHS;
        let tabs = equal_to(v, b'\t');
        let spaces = equal_to(v, b' ') | tabs;
        let digits = at_least(b'0') & !at_least(b'9' + 1) & !highs;
        let controls = !at_least(0x20) & !highs & !tabs & HIGHS;
        (bits(spaces), bits(digits), highs != 0, controls != 0)
    };
    let lo = half(u64::from_le_bytes(chunk[..8].try_into().expect("8 bytes")));
    let hi = half(u64::from_le_bytes(chunk[8..].try_into().expect("8 bytes")));
    Classes {
        spaces: (lo.0 | hi.0 << 8) as u16,
        digits: (lo.1 | hi.1 << 8) as u16,
        high: lo.2 || hi.2,
        control: lo.3 || hi.3,
    }
}

/// The first bit at or after `from` that is set (`want`) or clear (`!want`) in `bits`.
#[inline]
fn next_bit(bits: &[u64; BITMAP_BYTES / 64], from: usize, want: bool) -> usize {
    let mut w = from / 64;
    let flip = if want { 0 } else { u64::MAX };
    let mut m = (bits[w] ^ flip) >> (from % 64) << (from % 64);
    loop {
        if m != 0 {
            return w * 64 + m.trailing_zeros() as usize;
        }
        w += 1;
        if w == bits.len() {
            return BITMAP_BYTES;
        }
        m = bits[w] ^ flip;
    }
}

/// Whether any bit in `from..to` is set.
#[inline]
fn any_bit(bits: &[u64; BITMAP_BYTES / 64], from: usize, to: usize) -> bool {
    let mut at = from;
    while at < to {
        // Up to the end of `to` or of this bitmap word, whichever comes first.
        let len = (to - at).min(64 - at % 64);
        let m = if len == 64 { u64::MAX } else { (1 << len) - 1 };
        if (bits[at / 64] >> (at % 64)) & m != 0 {
            return true;
        }
        at += len;
    }
    false
}

/// [`mask_into`] from bitmaps of the whole line, eight bytes at a time: where the words are
/// (spaces and tabs) and which hold a digit, then each word by bit arithmetic. None (and
/// nothing written) when the line holds a control byte, which [`byte_by_byte`] sorts out.
#[inline]
fn by_bitmaps(
    line: &[u8],
    rules: &crate::Rules,
    levels: bool,
    text: &mut Vec<u8>,
    bounds: &mut Vec<(u32, u32)>,
) -> Option<Scanned> {
    let n = line.len();
    let mut spaces = [0u64; BITMAP_BYTES / 64];
    let mut digit = [0u64; BITMAP_BYTES / 64];
    let mut at = 0;
    let mut high = false;
    while at < n {
        let chunk: [u8; 16] = if at + 16 <= n {
            line[at..at + 16].try_into().expect("16 bytes")
        } else {
            // The last bytes, padded with spaces.
            let mut c = [b' '; 16];
            c[..n - at].copy_from_slice(&line[at..]);
            c
        };
        let c = classify(chunk);
        if c.control {
            return None;
        }
        spaces[at / 64] |= u64::from(c.spaces) << (at % 64);
        digit[at / 64] |= u64::from(c.digits) << (at % 64);
        high |= c.high;
        at += 16;
    }
    // A space after the line, so that every word ends.
    spaces[n / 64] |= 1 << (n % 64);
    let mut words = Words::new(rules, levels, text, bounds);
    let mut i = 0;
    loop {
        i = next_bit(&spaces, i, false);
        if i >= n {
            break;
        }
        let end = next_bit(&spaces, i, true);
        words.push(line, i, end, any_bit(&digit, i, end));
        i = end;
    }
    Some(Scanned {
        level: words.level,
        ascii: !high,
    })
}

/// [`mask_into`] a byte at a time, any line (those [`by_bitmaps`] leaves: long lines, lines
/// with control bytes).
fn byte_by_byte(
    line: &[u8],
    rules: &crate::Rules,
    levels: bool,
    text: &mut Vec<u8>,
    bounds: &mut Vec<(u32, u32)>,
) -> Scanned {
    let mut words = Words::new(rules, levels, text, bounds);
    let mut seen = 0u8;
    let (n, mut i) = (line.len(), 0);
    loop {
        while i < n && CLASS[line[i] as usize] == SPACE {
            i += 1;
        }
        if i == n {
            break;
        }
        let (start, mut classes) = (i, 0u8);
        while i < n && CLASS[line[i] as usize] != SPACE {
            classes |= CLASS[line[i] as usize];
            i += 1;
        }
        seen |= classes;
        words.push(line, start, i, classes & DIGIT != 0);
    }
    Scanned {
        level: words.level,
        ascii: seen & WIDE == 0,
    }
}

/// A line's masked words as they are appended: the rule that looks at the word before, the
/// level among the first six words, and where each word is.
struct Words<'a> {
    rules: &'a crate::Rules,
    levels: bool,
    text: &'a mut Vec<u8>,
    bounds: &'a mut Vec<(u32, u32)>,
    /// Where this line starts in `text` and `bounds`.
    base: usize,
    first_word: usize,
    after_number: bool,
    level: Option<Level>,
}

impl<'a> Words<'a> {
    fn new(
        rules: &'a crate::Rules,
        levels: bool,
        text: &'a mut Vec<u8>,
        bounds: &'a mut Vec<(u32, u32)>,
    ) -> Self {
        Words {
            rules,
            levels,
            base: text.len(),
            first_word: bounds.len(),
            text,
            bounds,
            after_number: false,
            level: None,
        }
    }

    /// Append the masked form of the word `line[i..end]` (`digit`: it holds one) and its
    /// separator.
    #[inline(always)]
    fn push(&mut self, line: &[u8], i: usize, end: usize, digit: bool) {
        let (word, rules, text) = (&line[i..end], self.rules, &mut *self.text);
        let at = text.len();
        if (rules.calendar && is_calendar_word(word))
            || (self.after_number && rules.size_units && is_size_unit(word))
        {
            text.extend_from_slice(WILDCARD.as_bytes());
        } else if digit {
            if rules.pieces {
                mask_pieces(word, text, rules.join_runs);
            } else {
                text.extend_from_slice(WILDCARD.as_bytes());
            }
        } else if end - i <= 16 && i + 16 <= line.len() {
            // Sixteen bytes copied at once, cut back to the word.
            text.extend_from_slice(&line[i..i + 16]);
            text.truncate(at + (end - i));
        } else {
            text.extend_from_slice(word);
        }
        // A size unit after a number varies with the magnitude ("384 B", "2.1 KB").
        self.after_number = text[at..] == *WILDCARD.as_bytes();
        if self.levels && self.level.is_none() && self.bounds.len() - self.first_word < 6 {
            self.level = crate::line::word_level(word);
        }
        self.bounds
            .push(((at - self.base) as u32, (text.len() - self.base) as u32));
        text.push(0x1f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference `mask_line` must agree with: words cut by `split_ascii_whitespace`,
    /// each masked alone by `mask_word_with` (a size unit after a number masked too), and
    /// the level as `parse_line` finds it on a plain line.
    fn word_by_word(line: &str, rules: &crate::Rules) -> (Vec<String>, Option<Level>) {
        let mut words: Vec<String> = Vec::new();
        for w in line.split_ascii_whitespace() {
            let after_number = words.last().is_some_and(|m| m == WILDCARD);
            let mut m = String::new();
            if after_number && rules.size_units && is_size_unit(w.as_bytes()) {
                m.push_str(WILDCARD);
            } else {
                mask_word_with(w, &mut m, rules);
            }
            words.push(m);
        }
        (words, crate::line::parse_line(line).level)
    }

    /// Lines made of the bytes the scan tells apart (spaces, tabs, control bytes, digits,
    /// delimiters, non-ASCII) and of the words the rules name, at every length around the
    /// eight-byte steps.
    fn line() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[ \t\x0b\x0c\x01]{1,3}",
            "[a-zA-Z0-9_\\-]{1,19}",
            "[0-9.:/@,|=;()\\[\\]{}<>#'\"]{1,12}",
            "[a-z0-9]{0,9}[\u{e9}\u{2003}\u{1f600}][a-z0-9]{0,9}",
            prop::sample::select(vec![
                "Thu",
                "Jun",
                "384",
                "B",
                "KB,",
                "bytes",
                "ERROR",
                "[warn]",
                "error:",
                "level=info",
                "LEVEL=FATAL",
                "(crit)",
                "<Debug>",
                "INFO:",
                "WARNING",
                "10.0.0.1:50010",
                "blk_-1608999687919862906",
                "id=12",
                "<*>",
            ])
            .prop_map(str::to_string),
        ];
        // Up to ~1,000 bytes: words across the bitmaps' 64-bit steps, and lines too long
        // for them.
        prop::collection::vec(piece, 0..40).prop_map(|p| p.join(" "))
    }

    fn rules() -> impl Strategy<Value = crate::Rules> {
        prop::array::uniform6(any::<bool>()).prop_map(|r| crate::Rules {
            calendar: r[0],
            size_units: r[1],
            pieces: r[2],
            join_runs: r[3],
            keep_first_word: r[4],
            anchor: r[5],
        })
    }

    proptest! {
        #[test]
        fn the_short_ways_mask_a_word_as_the_long_way_does(
            // Each short way's shape (one piece; digits and joiners) and anything else.
            word in prop_oneof![
                "[0-9a-zA-Z_\\-\u{e9}]{1,24}",
                "[0-9:/@,|.]{1,24}",
                "[0-9a-z_\\-:/@,|.=;()#\\[\\]\u{e9}]{1,24}",
            ],
            join_runs in any::<bool>(),
        ) {
            let (mut short, mut long) = (Vec::new(), Vec::new());
            if has_digit(word.as_bytes()) {
                mask_pieces(word.as_bytes(), &mut short, join_runs);
                piece_by_piece(word.as_bytes(), &mut long, join_runs);
                prop_assert_eq!(String::from_utf8(short).unwrap(), String::from_utf8(long).unwrap());
            }
        }

        #[test]
        fn one_pass_masks_as_word_by_word_does(line in line(), rules in rules()) {
            let mut out = Masked::default();
            let scan = mask_line(line.as_bytes(), &rules, true, &mut out);
            let words: Vec<String> = out
                .as_ref()
                .words()
                .map(|w| String::from_utf8(w.to_vec()).unwrap())
                .collect();
            let (expected, level) = word_by_word(&line, &rules);
            prop_assert_eq!(words, expected);
            prop_assert_eq!(scan.level, level);
            prop_assert_eq!(scan.ascii, line.is_ascii());
            // The key is the words, each followed by 0x1f.
            let key: Vec<u8> = out.as_ref().words().flat_map(|w| [w, &[0x1f][..]].concat()).collect();
            prop_assert_eq!(out.as_ref().key(), &key[..]);
        }
    }

    fn m(w: &str) -> String {
        let mut s = String::new();
        mask_word(w, &mut s);
        s
    }

    #[test]
    fn has_digit_agrees_with_a_byte_scan() {
        for w in [
            "",
            "a",
            "abcdefgh",
            "abcdefg1",
            "1bcdefghij",
            "abcdefghijklmnop9",
            "::::////",
            "\u{e9}t\u{e9}-2021",
            "ABCDEFGH:;<=>?@",
            "/////////0",
        ] {
            assert_eq!(
                has_digit(w.as_bytes()),
                w.bytes().any(|b| b.is_ascii_digit()),
                "{w:?}"
            );
        }
        for b in 0..=255u8 {
            let word = [b; 9];
            assert_eq!(has_digit(&word), b.is_ascii_digit(), "byte {b}");
        }
    }

    #[test]
    fn numbers_hex_and_versions() {
        assert_eq!(m("3579"), "<*>");
        assert_eq!(m("-42"), "<*>");
        assert_eq!(m("3.14"), "<*>");
        assert_eq!(m("0x7fed806eb5d"), "<*>");
        assert_eq!(m("7fef9fb9b6d"), "<*>");
        assert_eq!(m("v6.1.7601.23505"), "<*>");
        assert_eq!(m("word"), "word");
        assert_eq!(m("core.1234"), "core.<*>");
        assert_eq!(m("wcp.dll"), "wcp.dll");
    }

    #[test]
    fn uuids_request_ids_and_arns() {
        assert_eq!(m("3f1c2a9e-8b7d-4c1e-9a2b-1234567890ab"), "<*>");
        assert_eq!(m("RequestId:"), "RequestId:");
        assert_eq!(
            m("arn:aws:lambda:us-east-1:123456789012:function:api"),
            "arn:aws:lambda:<*>:function:api"
        );
    }

    #[test]
    fn ips_ports_and_timestamps_collapse() {
        assert_eq!(m("10.251.43.21:50010"), "<*>");
        assert_eq!(m("/10.251.43.21:50010"), "/<*>");
        assert_eq!(m("rhost=218.188.2.4"), "rhost=<*>");
        assert_eq!(m("2016-09-27T20:30:31.455Z"), "<*>");
        assert_eq!(m("00000001@2016/9/27:20:30:31.455"), "<*>");
        assert_eq!(m("[173.234.31.186]"), "[<*>]");
    }

    #[test]
    fn durations_sizes_and_key_values() {
        assert_eq!(m("250ms"), "<*>");
        assert_eq!(m("12MB"), "<*>");
        assert_eq!(m("uid=0"), "uid=<*>");
        assert_eq!(m("onExtend:1514038530000"), "onExtend:<*>");
        assert_eq!(m("totalSteps=1:2:3:4"), "totalSteps=<*>");
        assert_eq!(m("blk_-1608999687919862906"), "<*>");
        assert_eq!(m("(seq"), "(seq");
        assert_eq!(m("@0x7fed806eb5d)"), "@<*>)");
    }

    #[test]
    fn day_and_month_names_are_timestamps() {
        assert_eq!(m("Thu"), "<*>");
        assert_eq!(m("Jun"), "<*>");
        assert_eq!(m("Thursday"), "Thursday");
        assert_eq!(m("June"), "June");
    }

    #[test]
    fn both_ways_of_classifying_bytes_agree() {
        // Every byte value in every position, next to every other kind of byte.
        for b in 0..=255u8 {
            for other in [b' ', b'\t', b'7', b'a', 0x01, 0xc3] {
                for at in 0..16 {
                    let mut chunk = [other; 16];
                    chunk[at] = b;
                    let swar = classify_swar(chunk);
                    assert_eq!(
                        classify(chunk),
                        swar,
                        "byte {b:#x} at {at} among {other:#x}"
                    );
                    let bit = swar.spaces >> at & 1 == 1;
                    assert_eq!(bit, b == b' ' || b == b'\t', "{b:#x}");
                    assert_eq!(swar.digits >> at & 1 == 1, b.is_ascii_digit(), "{b:#x}");
                }
            }
        }
        let mut chunk = [b'a'; 16];
        chunk[3] = 0x0b;
        assert!(classify(chunk).control && classify_swar(chunk).control);
    }

    #[test]
    fn a_word_across_a_bitmap_step_keeps_its_digit() {
        let mut out = Masked::default();
        let line = format!("{} AaA_A-AA0", "a".repeat(55));
        mask_line(line.as_bytes(), &crate::Rules::default(), false, &mut out);
        assert_eq!(out.as_ref().word(1), b"<*>");
    }

    #[test]
    fn paths_keep_their_constant_parts() {
        assert_eq!(m("/var/log/app.log"), "/var/log/app.log");
        assert_eq!(
            m("/user/root/rand/_temporary/_task_200811092030_0001_m_000590_0/part-00590"),
            "/user/root/rand/_temporary/<*>"
        );
    }
}
