//! The diff path: how much of each stage's file comes unchanged from the stage before.
//!
//! The book promises that the diff between neighbouring stages' `fetch.rs` (or `crawler.rs`) reads
//! as the one idea that changed. A diff that rewrites most of the newer file cannot read that way,
//! so [`FLOORS`] sets, for each neighbouring pair, the least share of the newer file's lines
//! (blank lines included) that the diff must leave unchanged. The share is taken on the files as
//! the book shows them and with the book's alignment ([`diffs::read`], [`diffs::lines`]): it is
//! the share of the newer file that the reader sees as context lines, not as `+` lines.
//!
//! GNU `diff -b`'s share of the raw files is printed beside it for comparison only: it aligns by
//! its own Myers variant and counts the anchor lines, so it can differ either way.

use std::io;
use std::path::Path;
use std::process::Command;

use crate::diffs::{self, StageDiff};

/// The command that prints the table.
pub const COMMAND: &str = "cargo run -p book-gen -- diff-path";

/// The floors of one neighbouring pair: stage `from` against stage `from + 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Floor {
    /// The earlier stage's number.
    pub from: u8,
    /// The least share of the newer `fetch.rs` that must be unchanged, in percent.
    pub fetch: u32,
    /// The least share of the newer `crawler.rs` that must be unchanged, in percent.
    pub crawler: u32,
}

/// The floor of every neighbouring pair of stages.
pub const FLOORS: &[Floor] = &[
    Floor { from: 1, fetch: 25, crawler: 25 },
    Floor { from: 2, fetch: 60, crawler: 50 },
    Floor { from: 3, fetch: 45, crawler: 45 },
    Floor { from: 4, fetch: 30, crawler: 30 },
    Floor { from: 5, fetch: 80, crawler: 70 },
];

/// One file of one pair, measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The book's diff of the two files (in [`diffs::DIFFS`]).
    pub diff: &'static StageDiff,
    /// `stage 1 -> 2`.
    pub pair: String,
    /// `fetch.rs` or `crawler.rs`.
    pub file: String,
    /// The newer file's lines that the diff leaves unchanged.
    pub kept: usize,
    /// The newer file's lines.
    pub total: usize,
    /// The least share of `total` that `kept` must be, in percent.
    pub floor: u32,
}

impl Row {
    /// `kept` as a percentage of `total`.
    pub fn share(&self) -> f64 {
        percent(self.kept, self.total)
    }

    /// Whether the share reaches the floor (compared in whole lines, so rounding cannot decide it).
    pub fn holds(&self) -> bool {
        self.kept * 100 >= self.total * self.floor as usize
    }
}

/// `part` as a percentage of `whole`.
fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole as f64
}

/// The lines of `new` that the book's diff of `old` against `new` leaves unchanged, and the lines
/// of `new`: `(kept, total)`.
pub fn kept(old: &str, new: &str) -> (usize, usize) {
    let diff = diffs::lines(old, new);
    (diff.kept(), diff.new_len())
}

/// The entry of [`diffs::DIFFS`] for one file of the pair that starts at stage `from`.
fn stage_diff(from: u8, role: &str) -> &'static StageDiff {
    let name = format!("stage{from}-stage{}-{role}", from + 1);
    diffs::DIFFS.iter().find(|diff| diff.name == name).unwrap_or_else(|| panic!("no {name} in diffs::DIFFS"))
}

/// Every pair's `fetch.rs` and `crawler.rs`, measured on the files as they are now.
pub fn measure(root: &Path) -> io::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for floor in FLOORS {
        for (role, percent) in [("fetch", floor.fetch), ("crawler", floor.crawler)] {
            let diff = stage_diff(floor.from, role);
            let (kept, total) = kept(&diffs::read(root, diff.old)?, &diffs::read(root, diff.new)?);
            let pair = format!("stage {} -> {}", floor.from, floor.from + 1);
            rows.push(Row { diff, pair, file: format!("{role}.rs"), kept, total, floor: percent });
        }
    }
    Ok(rows)
}

/// What GNU `diff -b` leaves unchanged of the raw newer file (anchor lines included), as
/// `diff -b --unchanged-line-format=%L --old-line-format= --new-line-format=` prints it:
/// `(kept, total)`, or `None` if `diff` cannot be run.
pub fn gnu_kept(root: &Path, diff: &StageDiff) -> Option<(usize, usize)> {
    let output = Command::new("diff")
        .args(["-b", "--unchanged-line-format=%L", "--old-line-format=", "--new-line-format="])
        .args([root.join(diff.old), root.join(diff.new)])
        .output()
        .ok()?;
    // 0: the same, 1: different, 2: trouble.
    if output.status.code()? > 1 {
        return None;
    }
    let total = std::fs::read_to_string(root.join(diff.new)).ok()?.lines().count();
    Some((String::from_utf8_lossy(&output.stdout).lines().count(), total))
}

/// The table [`COMMAND`] prints: every row, its floor, whether it holds, and GNU `diff`'s share.
pub fn table(root: &Path, rows: &[Row]) -> String {
    let mut out = format!(
        "{:<13} {:<11} {:>10} {:>7} {:>6}  {:<5} {:>8}\n",
        "pair", "file", "kept/total", "share", "floor", "holds", "GNU diff"
    );
    for row in rows {
        let gnu = gnu_kept(root, row.diff)
            .map_or("-".to_string(), |(kept, total)| format!("{:.1} %", percent(kept, total)));
        out += &format!(
            "{:<13} {:<11} {:>10} {:>5.1} % {:>4} %  {:<5} {gnu:>8}\n",
            row.pair,
            row.file,
            format!("{}/{}", row.kept, row.total),
            row.share(),
            row.floor,
            if row.holds() { "yes" } else { "NO" },
        );
    }
    out
}

/// One message per file whose share is below its floor, naming the command that prints the table.
pub fn check(root: &Path) -> Vec<String> {
    let rows = match measure(root) {
        Ok(rows) => rows,
        Err(e) => return vec![format!("cannot read a stage file: {e}")],
    };
    rows.iter()
        .filter(|row| !row.holds())
        .map(|row| {
            format!(
                "{} {}: {:.1} % of the newer file ({} of {} lines) is unchanged, below its floor of {} % \
                 (`{COMMAND}` prints the table)",
                row.pair,
                row.file,
                row.share(),
                row.kept,
                row.total,
                row.floor
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_counts_the_new_files_unchanged_lines_blank_ones_too() {
        assert_eq!(kept("a\n\nb\nc\n", "a\n\nx\nc\nd\n"), (3, 5));
        assert_eq!(kept("", "a\n"), (0, 1));
    }

    #[test]
    fn a_share_exactly_at_its_floor_holds() {
        let row = |kept| Row {
            diff: &diffs::DIFFS[0],
            pair: String::new(),
            file: String::new(),
            kept,
            total: 40,
            floor: 25,
        };
        assert!(row(10).holds() && !row(9).holds());
    }

    #[test]
    fn every_neighbouring_pair_has_floors_and_the_book_has_its_diffs() {
        let froms: Vec<u8> = FLOORS.iter().map(|floor| floor.from).collect();
        assert_eq!(froms, [1, 2, 3, 4, 5]);
        for floor in FLOORS {
            for role in ["fetch", "crawler"] {
                let diff = stage_diff(floor.from, role);
                assert!(diff.new.ends_with(&format!("/{role}.rs")), "{diff:?}");
            }
        }
    }
}
