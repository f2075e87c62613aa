//! Plain aligned columns for text output (no box drawing: it must survive `less`, logs and
//! copy-paste into a ticket), laid out by comfy-table, which measures cells as a terminal
//! shows them (an emoji or a CJK character takes two columns).

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

/// The longest cell shown (in characters). comfy-table measures a cell grapheme by
/// grapheme more than once, which took minutes on a 10 MB log template; nobody reads a
/// cell that long in a terminal, and `--format json` has it whole.
const MAX_CELL: usize = 4096;

fn shown(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.char_indices().nth(MAX_CELL) {
        None => cell.into(),
        Some((at, _)) => format!(
            "{}… ({} more characters; --format json has them)",
            &cell[..at],
            cell[at..].chars().count()
        )
        .into(),
    }
}

/// Render rows under a header, columns separated by two spaces; no line ends in spaces.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        // Never wrap to a guessed terminal width: a long template stays one line.
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    for row in rows {
        t.add_row(row.iter().take(header.len()).map(|c| shown(c)));
    }
    for (i, c) in t.column_iter_mut().enumerate() {
        c.set_padding((0, if i + 1 == header.len() { 0 } else { 2 }));
        c.set_cell_alignment(CellAlignment::Left);
    }
    t.lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_align_to_the_widest_cell() {
        let t = super::render(
            &["A", "LONGER"],
            &[
                vec!["xyz".into(), "1".into()],
                vec!["q".into(), "22".into()],
            ],
        );
        assert_eq!(t, "A    LONGER\nxyz  1\nq    22");
    }

    #[test]
    fn a_huge_cell_is_cut_and_says_how_much_was_left_out() {
        let long = "é".repeat(super::MAX_CELL + 10);
        let t = super::render(&["T"], &[vec![long]]);
        let line = t.lines().nth(1).unwrap();
        assert!(line.starts_with(&"é".repeat(super::MAX_CELL)));
        assert!(
            line.ends_with("… (10 more characters; --format json has them)"),
            "{line}"
        );
    }

    #[test]
    fn wide_characters_take_their_two_columns() {
        let t = super::render(
            &["S", "ID"],
            &[vec!["🔴".into(), "a".into()], vec!["x".into(), "b".into()]],
        );
        assert_eq!(t, "S   ID\n🔴  a\nx   b");
    }
}
