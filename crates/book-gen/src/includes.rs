//! The book's `{{#include}}` directives, read the way mdBook reads them, and checked.
//!
//! mdBook is lenient where the book must not be: an include whose anchor is missing renders as
//! nothing, and one whose `ANCHOR_END` is missing renders the rest of the file, both without a
//! word. [`check`] refuses both, and a file that does not exist, and a line range past the end.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// mdBook's link syntax: `{{#include path}}`, `{{#include path:anchor}}`,
/// `{{#include path:start:end}}`, the same for `rustdoc_include`, and `\{{#...}}` escaped.
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\\\{\{\#.*\}\}|\{\{\s*\#([a-zA-Z0-9_]+)\s+([^}]+)\}\}").expect("a valid regex")
});

/// mdBook's anchor lines (the same patterns as its `take_lines.rs`).
static ANCHOR_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ANCHOR:\s*(?P<name>[\w_-]+)").expect("a valid regex"));
static ANCHOR_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"ANCHOR_END:\s*(?P<name>[\w_-]+)").expect("a valid regex"));

/// Whether a line is only an anchor comment (`// ANCHOR: name`, `// ANCHOR_END: name`).
pub fn is_anchor_comment(line: &str) -> bool {
    let line = line.trim();
    line.starts_with("//") && (ANCHOR_START.is_match(line) || ANCHOR_END.is_match(line))
}

/// What part of the file an include takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Lines `start..end`, counted from 0, end excluded; `None` is open.
    Lines { start: Option<usize>, end: Option<usize> },
    /// The lines between `ANCHOR: name` and `ANCHOR_END: name`.
    Anchor(String),
}

/// One include directive in a chapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Include {
    /// The line of the chapter it is on, from 1.
    pub line: usize,
    /// The directive as written.
    pub text: String,
    /// The path as written, relative to the chapter's folder.
    pub path: String,
    /// What it takes of the file.
    pub part: Part,
}

/// The include directives in a chapter's text (`include`, `rustdoc_include`, `playground`).
pub fn find(markdown: &str) -> Vec<Include> {
    LINK.captures_iter(markdown)
        .filter_map(|cap| {
            let (kind, rest) = (cap.get(1)?.as_str(), cap.get(2)?.as_str());
            let target = rest.split_whitespace().next()?;
            let (path, part) = match kind {
                "include" | "rustdoc_include" => parse_target(target),
                "playground" | "playpen" => (target.to_string(), Part::Lines { start: None, end: None }),
                _ => return None,
            };
            let start = cap.get(0)?.start();
            let line = markdown[..start].matches('\n').count() + 1;
            Some(Include { line, text: cap[0].to_string(), path, part })
        })
        .collect()
}

/// Splits `path:rest` as mdBook does: numbers are a line range (from 1, end included), anything
/// else is an anchor.
fn parse_target(target: &str) -> (String, Part) {
    let (path, rest) = target.split_once(':').unwrap_or((target, ""));
    let mut parts = rest.splitn(3, ':');
    let first = parts.next().unwrap_or("");
    let start = match first.parse::<usize>() {
        Ok(n) => Some(n.saturating_sub(1)),
        Err(_) if first.is_empty() => None,
        Err(_) => return (path.to_string(), Part::Anchor(first.to_string())),
    };
    let end = parts.next().map(str::parse::<usize>);
    let part = match (start, end) {
        (Some(start), Some(Ok(end))) => Part::Lines { start: Some(start), end: Some(end) },
        (Some(start), Some(Err(_))) => Part::Lines { start: Some(start), end: None },
        (Some(start), None) => Part::Lines { start: Some(start), end: Some(start + 1) },
        (None, Some(Ok(end))) => Part::Lines { start: None, end: Some(end) },
        (None, _) => Part::Lines { start: None, end: None },
    };
    (path.to_string(), part)
}

/// The lines an anchor encloses, or why there are none.
pub fn anchored<'a>(text: &'a str, anchor: &str) -> Result<Vec<&'a str>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let is = |re: &Regex, line: &str| re.captures(line).is_some_and(|cap| &cap["name"] == anchor);
    let start = lines
        .iter()
        .position(|line| is(&ANCHOR_START, line))
        .ok_or_else(|| format!("no `ANCHOR: {anchor}` line"))?;
    let end = lines[start..]
        .iter()
        .position(|line| is(&ANCHOR_END, line))
        .map(|offset| start + offset)
        .ok_or_else(|| format!("no `ANCHOR_END: {anchor}` line after `ANCHOR: {anchor}`"))?;
    if lines.iter().filter(|line| is(&ANCHOR_START, line)).count() > 1 {
        return Err(format!("`ANCHOR: {anchor}` appears more than once; mdBook takes only the first"));
    }
    let inside: Vec<&str> = lines[start + 1..end]
        .iter()
        .copied()
        .filter(|line| !ANCHOR_START.is_match(line) && !ANCHOR_END.is_match(line))
        .collect();
    if inside.iter().all(|line| line.trim().is_empty()) {
        return Err(format!("the anchor `{anchor}` encloses nothing"));
    }
    Ok(inside)
}

/// The line where an insta snapshot's body starts (after its `---` header), counted from 0.
pub fn snapshot_body_start(text: &str) -> Option<usize> {
    let mut fences = text.lines().enumerate().filter(|(_, line)| *line == "---");
    let (first, _) = fences.next()?;
    let (second, _) = fences.next()?;
    (first == 0).then_some(second + 1)
}

/// A whole piece of an insta snapshot's output: its body, or a command snapshot's stdout.
struct Piece {
    /// "body" or "stdout", for messages.
    what: &'static str,
    /// Its first line, from 0.
    first: usize,
    /// Where it ends, from 0, excluded: the file's end, or just after its last line that is not
    /// blank when something follows it (a command's stderr).
    end: usize,
    /// Whether it runs to the end of the file, so that mdBook's open `:N:` takes it whole.
    to_file_end: bool,
}

impl Piece {
    /// The mdBook range that takes it whole: `:N:`, or `:N:M` (from 1, end included).
    fn range(&self) -> String {
        if self.to_file_end {
            format!(":{}:", self.first + 1)
        } else {
            format!(":{}:{}", self.first + 1, self.end)
        }
    }
}

/// The whole piece of an insta snapshot's output that an include starting at line `start` (from
/// 0) means: its stdout (for a command's snapshot, unless the include starts at the body), or its
/// body.
fn snapshot_piece(text: &str, start: usize) -> Result<Piece, String> {
    let body = snapshot_body_start(text).ok_or("a snapshot without the `---` header insta writes")?;
    let lines: Vec<&str> = text.lines().collect();
    let marker = |name: &str| lines.iter().position(|line| *line == format!("----- {name} -----"));
    let (what, first, stop) = match marker("stdout") {
        Some(stdout) if start != body => ("stdout", stdout + 1, marker("stderr").unwrap_or(lines.len())),
        _ => ("body", body, lines.len()),
    };
    let to_file_end = stop == lines.len();
    let end = if to_file_end {
        stop
    } else {
        (first..stop).rev().find(|&i| !lines[i].trim().is_empty()).map_or(first, |i| i + 1)
    };
    Ok(Piece { what, first, end, to_file_end })
}

/// Whether lines `start..end` (from 0) of an insta snapshot are a whole piece of its output: all
/// of its body, or (for a command's snapshot) all of its stdout, never the header and never cut
/// short. Snapshot headers change length when a test's arguments do, and outputs grow with the
/// site; this catches an include left pointing at the old lines (`regen` rewrites it).
fn check_snapshot_part(text: &str, start: usize, end: usize) -> Result<(), String> {
    let piece = snapshot_piece(text, start)?;
    if start == piece.first && end == piece.end {
        return Ok(());
    }
    let range = piece.range();
    Err(format!(
        "the snapshot's {} is lines {}: include it with `{range}` (`{}` rewrites it)",
        piece.what,
        &range[1..],
        crate::REGEN
    ))
}

/// Every chapter whose line-range includes of snapshots no longer take a whole piece of the
/// snapshot's output, rewritten so that they do (see [`check_snapshot_part`]).
pub fn with_fresh_snapshot_ranges(book_src: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for chapter in markdown_files(book_src) {
        let Ok(text) = std::fs::read_to_string(&chapter) else { continue };
        let mut fresh = text.clone();
        for include in find(&text) {
            let (Part::Lines { start, .. }, Some((path, _))) =
                (&include.part, include.text.split_once(".snap:"))
            else {
                continue;
            };
            let target = chapter.parent().unwrap_or(Path::new(".")).join(&include.path);
            let Ok(snapshot) = std::fs::read_to_string(&target) else { continue };
            if let Ok(piece) = snapshot_piece(&snapshot, start.unwrap_or(0)) {
                let directive = format!("{path}.snap{}}}}}", piece.range());
                fresh = fresh.replacen(&include.text, &directive, 1);
            }
        }
        if fresh != text {
            files.push((chapter, fresh));
        }
    }
    files
}

/// Checks one include found in `chapter`.
fn check_one(chapter: &Path, include: &Include) -> Result<(), String> {
    let target = chapter.parent().unwrap_or(Path::new(".")).join(&include.path);
    let text =
        std::fs::read_to_string(&target).map_err(|e| format!("cannot read {}: {e}", target.display()))?;
    match &include.part {
        Part::Anchor(anchor) => anchored(&text, anchor).map(drop),
        Part::Lines { start, end } => {
            let count = text.lines().count();
            let (start, end) = (start.unwrap_or(0), end.unwrap_or(count));
            if start >= end || end > count {
                return Err(format!("lines {}..={end} are not within its {count} lines", start + 1));
            }
            if target.extension().is_some_and(|ext| ext == "snap") {
                return check_snapshot_part(&text, start, end);
            }
            Ok(())
        }
    }
}

/// Every Markdown file under `dir`, sorted.
pub fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = crate::reach::files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files
}

/// Every include under `book_src` that names a missing file, a missing or empty anchor, or lines
/// the file does not have: one message each, with the chapter and line.
pub fn check(root: &Path, book_src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in markdown_files(book_src) {
        let Ok(text) = std::fs::read_to_string(&chapter) else {
            problems.push(format!("cannot read {}", crate::relative(root, &chapter)));
            continue;
        };
        for include in find(&text) {
            if let Err(why) = check_one(&chapter, &include) {
                problems.push(format!(
                    "{}:{}: {}: {why}",
                    crate::relative(root, &chapter),
                    include.line,
                    include.text
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(markdown: &str) -> Vec<(String, Part)> {
        find(markdown).into_iter().map(|i| (i.path, i.part)).collect()
    }

    fn lines(start: Option<usize>, end: Option<usize>) -> Part {
        Part::Lines { start, end }
    }

    #[test]
    fn include_targets_are_read_as_mdbook_reads_them() {
        let md = "a\n{{#include ../x.rs:fetch}}\n{{#include y.rs}}\n{{#include z.snap:5:}}\n\
                  {{#include z.rs:2:4}}\n{{#include z.rs::3}}\n{{#include z.rs:7}}\n\
                  {{#rustdoc_include w.rs:run}}\n\\{{#include escaped.rs}}\n{{#title T}}\n";
        assert_eq!(
            parts(md),
            [
                ("../x.rs".into(), Part::Anchor("fetch".into())),
                ("y.rs".into(), lines(None, None)),
                ("z.snap".into(), lines(Some(4), None)),
                ("z.rs".into(), lines(Some(1), Some(4))),
                ("z.rs".into(), lines(None, Some(3))),
                ("z.rs".into(), lines(Some(6), Some(7))),
                ("w.rs".into(), Part::Anchor("run".into())),
            ]
        );
        assert_eq!(find(md)[0].line, 2);
    }

    #[test]
    fn an_anchor_needs_its_start_its_end_and_something_between() {
        let text =
            "x\n// ANCHOR: a\nfn a() {}\n// ANCHOR: inner\nlet b;\n// ANCHOR_END: inner\n// ANCHOR_END: a\n";
        assert_eq!(anchored(text, "a").unwrap(), ["fn a() {}", "let b;"]);
        assert!(anchored(text, "missing").unwrap_err().contains("no `ANCHOR: missing`"));
        assert!(anchored("// ANCHOR: a\nfn a() {}\n", "a").unwrap_err().contains("ANCHOR_END"));
        assert!(anchored("// ANCHOR: a\n\n// ANCHOR_END: a\n", "a").unwrap_err().contains("nothing"));
        // `ANCHOR: ab` is not `ANCHOR: a`.
        assert!(anchored("// ANCHOR: ab\nx\n// ANCHOR_END: ab\n", "a").is_err());
    }

    #[test]
    fn a_snapshot_body_starts_after_the_insta_header() {
        assert_eq!(snapshot_body_start("---\nsource: t.rs\nexpression: x\n---\nbody\n"), Some(4));
        assert_eq!(snapshot_body_start("body\n---\n"), None);
    }

    #[test]
    fn a_snapshot_include_takes_its_body_or_its_stdout_and_nothing_of_the_header() {
        let plain = "---\nsource: t.rs\n---\nline 1\nline 2\n";
        assert!(check_snapshot_part(plain, 3, 5).is_ok());
        assert!(check_snapshot_part(plain, 1, 5).unwrap_err().contains("`:4:`"));
        let command =
            "---\ninfo: x\n---\nsuccess: true\n----- stdout -----\nreport\nlast\n\n----- stderr -----\n";
        assert!(check_snapshot_part(command, 3, 9).is_ok());
        assert!(check_snapshot_part(command, 5, 7).is_ok());
        assert!(check_snapshot_part(command, 5, 9).unwrap_err().contains("`:6:7`"), "runs into stderr");
        assert!(check_snapshot_part(command, 5, 6).unwrap_err().contains("`:6:7`"), "drops the last line");
        assert!(check_snapshot_part(command, 4, 7).unwrap_err().contains("`:6:7`"));
        assert!(check_snapshot_part(plain, 3, 4).unwrap_err().contains("`:4:`"), "drops the last line");
    }

    #[test]
    fn a_snapshot_range_that_no_longer_fits_is_rewritten() {
        let dir = std::env::temp_dir().join(format!("book-gen-ranges-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let snapshot = "---\ninfo: x\n---\nsuccess: true\n----- stdout -----\nrow 1\nrow 2\nrow 3\n\n----- stderr -----\n";
        std::fs::write(dir.join("a.snap"), snapshot).unwrap();
        std::fs::write(dir.join("ch.md"), "text\n{{#include a.snap:6:7}}\n{{#include a.snap:6:8}}\n")
            .unwrap();
        let fresh = with_fresh_snapshot_ranges(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(fresh.len(), 1, "{fresh:?}");
        assert_eq!(fresh[0].1, "text\n{{#include a.snap:6:8}}\n{{#include a.snap:6:8}}\n");
    }
}
