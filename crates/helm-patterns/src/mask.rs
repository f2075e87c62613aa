//! Masking the variable parts of a word: any piece between delimiters that holds a digit
//! (numbers, hex, UUIDs, request ids, IPs, ports, timestamps, durations, versions, ARNs'
//! account and ids) becomes `<*>`, and a run of masked pieces joined only by delimiters
//! (`10.0.0.1:50010`, `20:30:31.455`) collapses into one `<*>`. No regular expression:
//! one pass over the bytes, which is what keeps the miner fast.

/// The placeholder for a variable part.
pub const WILDCARD: &str = "<*>";

/// Byte classes: 1 a delimiter (ends a piece inside a word), 3 a delimiter that may join
/// two masked pieces into one, 4 a digit, 0 anything else.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let delims = b"=;()[]{}\"'\\<>#";
    let mut i = 0;
    while i < delims.len() {
        t[delims[i] as usize] = 1;
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

#[inline]
fn is_delim(b: u8) -> bool {
    CLASS[b as usize] & 1 == 1
}

#[inline]
fn joins(b: u8) -> bool {
    CLASS[b as usize] == 3
}

/// Whether any byte is an ASCII digit, eight bytes at a time.
#[inline]
fn has_digit(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        // A byte is a digit when it is >= b'0' and < b'9' + 1: subtracting b'0' leaves
        // 0..=9, which is below 10 (the classic "has less than" trick per byte, ASCII only).
        let x = v ^ (ONES * 0x30); // digits become 0x00..=0x09 (and only they, for ASCII)
        let lt10 = x.wrapping_sub(ONES * 10) & !x & HIGHS;
        if lt10 != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b.is_ascii_digit())
}

/// Day and month names are parts of timestamps ("Thu Aug 11", "Jun 14 15:16:01").
fn is_calendar_word(w: &str) -> bool {
    const NAMES: [&str; 19] = [
        "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    w.len() == 3 && NAMES.contains(&w)
}

/// Units of size that follow a number and change with its magnitude.
pub fn is_size_unit(word: &str) -> bool {
    const UNITS: [&str; 14] = [
        "B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "kB", "bytes", "k", "M",
    ];
    UNITS.contains(&word.trim_end_matches([',', ')', ';']))
}

/// Append the masked form of `word` to `out` (every rule on).
pub fn mask_word(word: &str, out: &mut String) {
    mask_word_with(word, out, &crate::Rules::default());
}

/// Append the masked form of `word` to `out`, under `rules`.
#[inline]
pub fn mask_word_with(word: &str, out: &mut String, rules: &crate::Rules) {
    if rules.calendar && is_calendar_word(word) {
        out.push_str(WILDCARD);
        return;
    }
    let bytes = word.as_bytes();
    // Fast path: a word without a digit is its own mask.
    if !has_digit(bytes) {
        out.push_str(word);
        return;
    }
    if !rules.pieces {
        out.push_str(WILDCARD);
        return;
    }
    // Where the last wildcard written for this word ends, to collapse `<*>:<*>` into `<*>`.
    let mut last_mask_end: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        if is_delim(bytes[i]) {
            let d = i;
            while i < bytes.len() && is_delim(bytes[i]) {
                i += 1;
            }
            // Delimiters are ASCII, so these are char boundaries.
            out.push_str(&word[d..i]);
            continue;
        }
        let seg_start = i;
        let mut has_digit = false;
        while i < bytes.len() && !is_delim(bytes[i]) {
            has_digit |= CLASS[bytes[i] as usize] == 4;
            i += 1;
        }
        if has_digit {
            if let Some(end) = last_mask_end.filter(|_| rules.join_runs)
                && out.len() > end
                && out.as_bytes()[end..].iter().all(|&c| joins(c))
            {
                out.truncate(end);
                continue;
            }
            out.push_str(WILDCARD);
            last_mask_end = Some(out.len());
        } else {
            out.push_str(&word[seg_start..i]);
            last_mask_end = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn paths_keep_their_constant_parts() {
        assert_eq!(m("/var/log/app.log"), "/var/log/app.log");
        assert_eq!(
            m("/user/root/rand/_temporary/_task_200811092030_0001_m_000590_0/part-00590"),
            "/user/root/rand/_temporary/<*>"
        );
    }
}
