//! Which files under `book/src` the book actually uses.
//!
//! mdBook renders the chapters `SUMMARY.md` lists and copies every other file, used or not, and
//! it says nothing about a link to a file that is not there. [`check`] walks the book from
//! `SUMMARY.md` (its chapters, their includes, links and images) and reports the files nothing
//! reaches, the links that lead nowhere or out of the book, and the repository paths the prose
//! names in backticks that do not exist (a file renamed under the book's feet). The recordings of
//! the README's commands are the exception: the README links their folder, since it cannot
//! include them (see [`crate::runs`]).

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// A Markdown link or image target: `[text](target)` or `![alt](target "title")`.
static LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)"#).expect("a valid regex"));

/// A path of the repository written as code in prose: `` `crates/stage1-blocking/src/fetch.rs` ``.
static REPO_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"`((?:crates|tests|book|benches)/[A-Za-z0-9_./-]*)`").expect("a valid regex")
});

/// The repository paths a chapter names in backticks (so that a renamed file is not left named).
pub fn repo_paths(markdown: &str) -> Vec<String> {
    REPO_PATH.captures_iter(markdown).map(|cap| cap[1].trim_end_matches('/').to_string()).collect()
}

/// Every file under `dir`, recursively (symbolic links are not followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else { continue };
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    files
}

/// The local targets of a chapter's links and images (no scheme, not a bare `#fragment`), with
/// the fragment removed.
pub fn local_links(markdown: &str) -> Vec<String> {
    LINK.captures_iter(markdown)
        .map(|cap| cap[1].to_string())
        .filter(|target| {
            !target.starts_with('#') && !target.contains("://") && !target.starts_with("mailto:")
        })
        .map(|target| target.split('#').next().unwrap_or_default().to_string())
        .collect()
}

/// `path` with `.` and `..` resolved without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Files under `book_src` that nothing reaches, and links that lead nowhere or out of the book.
pub fn check(root: &Path, book_src: &Path) -> Vec<String> {
    let book_src = normalize(book_src);
    let summary = book_src.join("SUMMARY.md");
    let mut problems = Vec::new();
    let mut reached = BTreeSet::from([summary.clone()]);
    let mut pending = vec![summary];
    while let Some(page) = pending.pop() {
        let Ok(text) = std::fs::read_to_string(&page) else { continue };
        let dir = page.parent().unwrap_or(&book_src).to_path_buf();
        for named in repo_paths(&text) {
            if !root.join(&named).exists() {
                problems
                    .push(format!("{}: names `{named}`, which does not exist", crate::relative(root, &page)));
            }
        }
        let links = local_links(&text).into_iter().map(|link| (link, false));
        let includes = crate::includes::find(&text).into_iter().map(|include| (include.path, true));
        for (target, included) in links.chain(includes) {
            let path = normalize(&dir.join(&target));
            let inside = path.starts_with(&book_src);
            if !path.is_file() {
                problems.push(format!("{}: `{target}` does not exist", crate::relative(root, &page)));
            } else if !inside && !included {
                // An include may take code from anywhere; a link must stay in the rendered book.
                problems.push(format!(
                    "{}: the link `{target}` leaves book/src, so it would be broken in the rendered book",
                    crate::relative(root, &page)
                ));
            } else if inside && reached.insert(path.clone()) && path.extension().is_some_and(|e| e == "md") {
                pending.push(path);
            }
        }
    }
    for file in files_under(&book_src) {
        if !reached.contains(&file) && !crate::runs::is_readme_recording(&normalize(root), &file) {
            problems.push(format!(
                "{} is neither a chapter in SUMMARY.md nor included, linked or shown by one",
                crate::relative(root, &file)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_links_and_images_are_found_without_fragments() {
        let md = "[a](ch1.md) [b](ch2.md#part) ![c](data/x.svg \"title\") [d](https://x.org/y) [e](#here)";
        assert_eq!(local_links(md), ["ch1.md", "ch2.md", "data/x.svg"]);
    }

    #[test]
    fn repository_paths_in_backticks_are_found() {
        let md = "see `crates/a/src/b.rs` and `tests/snapshots/`, not `cargo run -p a` or `src/x.rs`";
        assert_eq!(repo_paths(md), ["crates/a/src/b.rs", "tests/snapshots"]);
    }

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
    }
}
