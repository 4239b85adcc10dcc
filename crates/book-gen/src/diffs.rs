//! The diffs between consecutive stages, as the book shows them.
//!
//! Every stage crate names its files by role (`fetch.rs` for one URL, `crawler.rs` for many), so
//! a diff of one stage's file against the next stage's is the one idea that changed. [`DIFFS`]
//! lists the pairs the book shows; [`generate`] renders them as unified diffs labelled with the
//! files' paths (no timestamps, so the output depends on nothing but the two files).
//!
//! The anchor comments that mark what the book includes (`// ANCHOR: fetch`) are left out of
//! both sides: they belong to the book, not to the stage, and would otherwise show up as changes
//! wherever two stages mark different parts. Line numbers in the hunk headers count the files
//! without those lines.
//!
//! The two files are lined up by patience alignment ([`ALGORITHM`]), not by `similar`'s default,
//! and a line whose only change is its indentation or spacing counts as unchanged (as with
//! `diff -b`): see [`lines`].

use std::io;
use std::path::{Path, PathBuf};

use similar::{Algorithm, DiffOp, DiffTag, udiff::UnifiedHunkHeader};

/// The command that regenerates the diffs.
pub const COMMAND: &str = "cargo run -p book-gen -- diffs";

/// The folder under the repository root that the diffs are written to.
pub const DIR: &str = "book/src/diffs";

/// One diff the book shows: `old` against `new`, both relative to the repository root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageDiff {
    /// The file name under [`DIR`], without `.diff`.
    pub name: &'static str,
    /// The earlier stage's file.
    pub old: &'static str,
    /// The later stage's file.
    pub new: &'static str,
}

const fn pair(name: &'static str, old: &'static str, new: &'static str) -> StageDiff {
    StageDiff { name, old, new }
}

/// Every diff in the book: each consecutive pair of stages for `fetch.rs` and `crawler.rs`, the
/// files a stage rewrites under the same name (`net.rs`, `task.rs`, `queue.rs`), the file a stage replaces
/// with another (stage 5's executor by stage 6's runtime), and stage 1 against stage 5, the
/// diff the whole book leads up to.
pub const DIFFS: &[StageDiff] = &[
    pair(
        "stage1-stage2-fetch",
        "crates/stage1-blocking/src/fetch.rs",
        "crates/stage2-busy-poll/src/fetch.rs",
    ),
    pair(
        "stage1-stage2-crawler",
        "crates/stage1-blocking/src/crawler.rs",
        "crates/stage2-busy-poll/src/crawler.rs",
    ),
    pair(
        "stage2-stage3-fetch",
        "crates/stage2-busy-poll/src/fetch.rs",
        "crates/stage3-callbacks/src/fetch.rs",
    ),
    pair(
        "stage2-stage3-crawler",
        "crates/stage2-busy-poll/src/crawler.rs",
        "crates/stage3-callbacks/src/crawler.rs",
    ),
    pair(
        "stage3-stage4-fetch",
        "crates/stage3-callbacks/src/fetch.rs",
        "crates/stage4-generators/src/fetch.rs",
    ),
    pair(
        "stage3-stage4-crawler",
        "crates/stage3-callbacks/src/crawler.rs",
        "crates/stage4-generators/src/crawler.rs",
    ),
    pair(
        "stage4-stage5-fetch",
        "crates/stage4-generators/src/fetch.rs",
        "crates/stage5-async-await/src/fetch.rs",
    ),
    pair(
        "stage4-stage5-crawler",
        "crates/stage4-generators/src/crawler.rs",
        "crates/stage5-async-await/src/crawler.rs",
    ),
    pair("stage4-stage5-net", "crates/stage4-generators/src/net.rs", "crates/stage5-async-await/src/net.rs"),
    pair(
        "stage4-stage5-task",
        "crates/stage4-generators/src/task.rs",
        "crates/stage5-async-await/src/task.rs",
    ),
    pair(
        "stage1-stage5-fetch",
        "crates/stage1-blocking/src/fetch.rs",
        "crates/stage5-async-await/src/fetch.rs",
    ),
    pair("stage5-stage6-fetch", "crates/stage5-async-await/src/fetch.rs", "crates/stage6-tokio/src/fetch.rs"),
    pair(
        "stage5-stage6-crawler",
        "crates/stage5-async-await/src/crawler.rs",
        "crates/stage6-tokio/src/crawler.rs",
    ),
    pair("stage5-stage6-queue", "crates/stage5-async-await/src/queue.rs", "crates/stage6-tokio/src/queue.rs"),
    pair(
        "stage5-stage6-runtime",
        "crates/stage5-async-await/src/executor.rs",
        "crates/stage6-tokio/src/runtime.rs",
    ),
    pair(
        "stage6-current-multi-thread",
        "crates/stage6-tokio/src/crawler.rs",
        "crates/stage6-tokio/src/multi_thread.rs",
    ),
];

/// Lines of context around each change, as `diff -u` gives by default.
const CONTEXT: usize = 3;

/// How the two files of a diff are lined up: patience, not Myers (`similar`'s default).
///
/// Myers finds a shortest edit, and two stages' files share many lines that are not unique (`}`,
/// blank lines, `Ok(())`), so there are many shortest edits, and which one it finds depends on
/// the whole of both files: a three-line edit to one stage can pair those lines up differently
/// and reshuffle whole hunks of its diffs. Patience first lines up the lines that occur once in
/// each file, so a small edit mostly moves the diff only near where it was made (between those
/// lines it still falls back to Myers).
pub const ALGORITHM: Algorithm = Algorithm::Patience;

/// The line diff of `old` against `new`, as the book's diffs line them up.
///
/// Two lines are the same if they differ only in their white space: how far they are indented,
/// how many spaces stand between words (`diff -b`, `git diff -b`). The step from one stage to the
/// next often moves code one level in (stage 1's blocking `read` becomes an arm of stage 2's
/// `match` on the state); shown as unchanged, such a line tells the reader that it came across as
/// it was, which is the point of the diff. An unchanged line is shown as the newer file has it.
pub fn lines<'a>(old: &'a str, new: &'a str) -> LineDiff<'a> {
    let (old, new): (Vec<&str>, Vec<&str>) =
        (old.split_inclusive('\n').collect(), new.split_inclusive('\n').collect());
    let compared =
        |lines: &[&str]| -> Vec<String> { lines.iter().map(|line| spacing_ignored(line)).collect() };
    let ops = similar::capture_diff_slices(ALGORITHM, &compared(&old), &compared(&new));
    LineDiff { old, new, ops }
}

/// A line as [`lines`] compares it: its words, one space apart.
fn spacing_ignored(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Two files' lines and how they line up (see [`lines`]).
#[derive(Debug)]
pub struct LineDiff<'a> {
    /// The older file's lines, each with its line ending.
    old: Vec<&'a str>,
    /// The newer file's lines, each with its line ending.
    new: Vec<&'a str>,
    /// Runs of equal, deleted, inserted and replaced lines, in order.
    ops: Vec<DiffOp>,
}

impl LineDiff<'_> {
    /// The runs of equal, deleted, inserted and replaced lines, in order.
    pub fn ops(&self) -> &[DiffOp] {
        &self.ops
    }

    /// How many lines the newer file has.
    pub fn new_len(&self) -> usize {
        self.new.len()
    }

    /// The lines of the newer file left unchanged.
    pub fn kept(&self) -> usize {
        self.ops.iter().filter(|op| op.tag() == DiffTag::Equal).map(|op| op.new_range().len()).sum()
    }

    /// The diff in unified format (`diff -u`), with [`CONTEXT`] lines around each change.
    pub fn unified(&self, old_label: &str, new_label: &str) -> String {
        let mut out = format!("--- {old_label}\n+++ {new_label}\n");
        for hunk in similar::group_diff_ops(self.ops.clone(), CONTEXT) {
            out += &format!("{}\n", UnifiedHunkHeader::new(&hunk));
            for op in &hunk {
                let (old, new) = (&self.old[op.old_range()], &self.new[op.new_range()]);
                match op.tag() {
                    DiffTag::Equal => push_lines(&mut out, ' ', new),
                    DiffTag::Delete => push_lines(&mut out, '-', old),
                    DiffTag::Insert => push_lines(&mut out, '+', new),
                    DiffTag::Replace => {
                        push_lines(&mut out, '-', old);
                        push_lines(&mut out, '+', new);
                    }
                }
            }
        }
        out
    }
}

/// Appends `lines` to a unified diff, each after `sign`.
fn push_lines(out: &mut String, sign: char, lines: &[&str]) {
    for line in lines {
        out.push(sign);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

/// The unified diff of `old` against `new`, labelled with the two paths.
pub fn unified(old_label: &str, old: &str, new_label: &str, new: &str) -> String {
    lines(old, new).unified(old_label, new_label)
}

/// `text` without its anchor comment lines.
pub fn strip_anchors(text: &str) -> String {
    text.split_inclusive('\n').filter(|line| !crate::includes::is_anchor_comment(line)).collect()
}

/// The file at `file` (relative to `root`) as the book's diffs show it: without its anchor lines.
pub fn read(root: &Path, file: &str) -> io::Result<String> {
    std::fs::read_to_string(root.join(file))
        .map(|text| strip_anchors(&text))
        .map_err(|e| io::Error::new(e.kind(), format!("{file}: {e}")))
}

/// Where a diff is written.
pub fn path(root: &Path, diff: &StageDiff) -> PathBuf {
    root.join(DIR).join(format!("{}.diff", diff.name))
}

/// Every diff in [`DIFFS`], rendered from the files as they are now: (where it goes, its text).
pub fn generate(root: &Path) -> io::Result<Vec<(PathBuf, String)>> {
    DIFFS
        .iter()
        .map(|diff| {
            let (old, new) = (read(root, diff.old)?, read(root, diff.new)?);
            Ok((path(root, diff), unified(diff.old, &old, diff.new, &new)))
        })
        .collect()
}

/// What is wrong with the diffs on disk: stale or missing ones, and `.diff` files no entry of
/// [`DIFFS`] generates.
pub fn check(root: &Path) -> Vec<String> {
    let expected = match generate(root) {
        Ok(expected) => expected,
        Err(e) => return vec![format!("cannot read a stage file: {e}")],
    };
    let mut problems = crate::compare(root, &expected, COMMAND);
    if let Ok(entries) = std::fs::read_dir(root.join(DIR)) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "diff") && !expected.iter().any(|(p, _)| *p == path)
            {
                problems.push(format!(
                    "{} is not generated by `{COMMAND}`: delete it, or add it to book_gen::diffs::DIFFS",
                    crate::relative(root, &path)
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_has_the_paths_as_labels_and_no_timestamps() {
        let diff = unified("a/x.rs", "one\ntwo\nthree\n", "b/x.rs", "one\n2\nthree\n");
        assert_eq!(diff, "--- a/x.rs\n+++ b/x.rs\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n");
    }

    #[test]
    fn a_line_moved_one_level_in_is_unchanged_and_shown_as_it_is_now() {
        let diff = unified("a", "loop {\nread();\n}\n", "b", "match x {\n    read();\n}\n");
        assert_eq!(diff, "--- a\n+++ b\n@@ -1,3 +1,3 @@\n-loop {\n+match x {\n     read();\n }\n");
        assert_eq!(lines("a b\n", "a  b \n").kept(), 1, "runs of spaces count as one");
        assert_eq!(lines("ab\n", "a b\n").kept(), 0, "a space where there was none is a change");
    }

    #[test]
    fn anchor_comments_are_left_out_of_a_diff() {
        let text = "// ANCHOR: fetch\nfn fetch() {}\n    // ANCHOR_END: fetch\nlet s = \"ANCHOR: x\";\n";
        assert_eq!(strip_anchors(text), "fn fetch() {}\nlet s = \"ANCHOR: x\";\n");
    }

    #[test]
    fn every_diff_has_its_own_name_and_pairs_two_stage_files() {
        for (i, diff) in DIFFS.iter().enumerate() {
            assert!(DIFFS[..i].iter().all(|earlier| earlier.name != diff.name), "{} twice", diff.name);
            assert_ne!(diff.old, diff.new);
            let stage = |file: &str| file.split('/').nth(1).unwrap_or_default().to_string();
            assert!(stage(diff.old).starts_with("stage") && stage(diff.new).starts_with("stage"), "{diff:?}");
            // Two stages, or two modes of one stage (stage 6's two crawlers), named for them.
            let stages = format!("{}-{}", &stage(diff.old)[..6], &stage(diff.new)[..6]);
            assert!(stage(diff.old) == stage(diff.new) || diff.name.starts_with(&stages), "{diff:?}");
        }
    }
}
