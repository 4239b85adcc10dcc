//! The book's generated parts, and the checks that keep the book honest.
//!
//! The book (`book/`, an mdBook) includes code from the crates by anchor and shows generated
//! files; nothing in it that comes from the code or from a measurement is typed by hand.
//!
//! | module | what it does | command |
//! |---|---|---|
//! | [`diffs`] | unified diffs between consecutive stages' files, into `book/src/diffs/` | `cargo run -p book-gen -- diffs` |
//! | [`diff_path`] | the share of each stage's `fetch.rs` and `crawler.rs` that the diff from the stage before leaves unchanged, against its floor | `cargo run -p book-gen -- diff-path` |
//! | [`data`] | runs the release tour, records the machine, writes `book/src/data/` | `cargo run -p book-gen -- data` |
//! | [`lab`] | runs the tour's lab (`switch`, `memory`, `c10k`, `syscalls`) in the same `data` run | `cargo run -p book-gen -- data` |
//! | [`bench`] | runs the runtime and echo benches in the same `data` run; their tables, from criterion's estimates | `cargo run -p book-gen -- data` |
//! | [`render`] | the tables, sentences and charts drawn from `tour.json` | `cargo run -p book-gen -- render` |
//! | [`claims`] | the claims table: each claim of the asyncio notes, its rule, and whether it holds | `cargo run -p book-gen -- render` |
//! | [`lab_render`] | the lab's tables, charts and claims, drawn from `lab.json` | `cargo run -p book-gen -- render` |
//! | [`timeline`] | runs `tour timeline` (every stage's `--timeline` against one small site) and keeps its traces in `book/src/data/timeline/`; redraws their pictures and captions | `cargo run -p book-gen -- timeline` (and `data`); `render` redraws |
//! | [`includes`] | every `{{#include}}` names a file, and an anchor, that exist | (tests) |
//! | [`runs`] | runs each command of the book's and the README's `sh` blocks (or checks it is marked as not run) and records what it printed, into `book/src/data/runs/` | `cargo run -p book-gen -- runs` |
//! | [`browser`] | the built book opened in headless Chromium, page by page: images, links and anchors, code blocks, search; two screenshots into `target/book-check/` | `cargo run -p book-gen -- browser-check` |
//! | [`reach`] | every file under `book/src` is reachable from `SUMMARY.md` | (tests) |
//! | [`fault_table`] | the site's table of faults, `crates/site/src/faults.md`, from `site::FAULTS` | `cargo run -p book-gen -- regen` |
//! | [`readme_flags`] | the README's list of the shared flags, from clap's definition | `cargo run -p book-gen -- regen` |
//!
//! `cargo run -p book-gen -- regen` rewrites everything derived from the code at once: the diffs,
//! the fault table, the README's flags, the snapshots (by running the snapshot tests in insta's force-update
//! mode), and the recorded output of the book's commands (as `runs` does); it then lists the
//! measured data that is stale, which only `data` re-measures.
//!
//! Each generator has a `check` twin returning what is stale or wrong, so that the tests in
//! `tests/book.rs` (and `cargo run -p book-gen -- check`) fail with the command that fixes it.

pub mod bench;
pub mod browser;
pub mod chart;
pub mod claims;
pub mod data;
pub mod diff_path;
pub mod diffs;
pub mod includes;
pub mod lab;
pub mod lab_render;
pub mod line_chart;
pub mod reach;
pub mod render;
pub mod runs;
pub mod timeline;

use std::path::{Path, PathBuf};

/// The repository's root (this crate lives in `crates/book-gen`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root exists")
}

/// The book's source folder, `book/src`, under `root`.
pub fn book_src(root: &Path) -> PathBuf {
    root.join("book").join("src")
}

/// A path relative to `root`, with `/` separators, for messages and labels.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The command that rewrites every generated file that is derived from the code alone.
pub const REGEN: &str = "cargo run -p book-gen -- regen";

/// The site's fault table, as its docs include it: `crates/site/src/faults.md`, from
/// `site::FAULTS`, so that adding a fault is one entry there.
pub fn fault_table(root: &Path) -> (PathBuf, String) {
    (root.join("crates/site/src/faults.md"), site::docs_table())
}

/// The README with its list of the shared flags rewritten from clap's definition
/// (`crawl::config::shared_flags`), between its `<!-- shared flags: generated -->` and
/// `<!-- end of shared flags -->` lines.
pub fn readme_flags(root: &Path) -> std::io::Result<(PathBuf, String)> {
    const START: &str = "<!-- shared flags: generated -->\n";
    const END: &str = "<!-- end of shared flags -->";
    let path = root.join("README.md");
    let text = std::fs::read_to_string(&path)?;
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        return Err(std::io::Error::other(format!(
            "README.md has no `{}` ... `{END}` lines",
            START.trim_end()
        )));
    };
    let flags: Vec<String> = crawl::config::shared_flags().iter().map(|flag| format!("`{flag}`")).collect();
    let list = wrap(&flags, 100);
    Ok((path, format!("{}{list}\n{}", &text[..start + START.len()], &text[end..])))
}

/// `items` joined with ", " into lines of at most `width` characters, breaking only between items.
fn wrap(items: &[String], width: usize) -> String {
    let mut lines = vec![String::new()];
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() { format!("{item},") } else { item.clone() };
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.len() + 1 + piece.len() > width {
            lines.push(piece);
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&piece);
        }
    }
    lines.join("\n")
}

/// Everything [`REGEN`] writes that is derived from the code alone, beside the diffs.
pub fn regenerated(root: &Path) -> std::io::Result<Vec<(PathBuf, String)>> {
    Ok(vec![fault_table(root), readme_flags(root)?])
}

/// Compares generated files with what is on disk: one message per file that is missing or
/// differs, naming `fix` (the command that regenerates it).
pub fn compare(root: &Path, expected: &[(PathBuf, String)], fix: &str) -> Vec<String> {
    expected
        .iter()
        .filter_map(|(path, content)| match std::fs::read_to_string(path) {
            Ok(on_disk) if on_disk == *content => None,
            Ok(_) => Some(format!("{} is stale: run `{fix}`", relative(root, path))),
            Err(_) => Some(format!("{} is missing: run `{fix}`", relative(root, path))),
        })
        .collect()
}

/// Writes generated files, creating their folders. Returns how many changed.
pub fn write_all(files: &[(PathBuf, String)]) -> std::io::Result<usize> {
    let mut changed = 0;
    for (path, content) in files {
        if std::fs::read_to_string(path).ok().as_deref() == Some(content.as_str()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, content)?;
        changed += 1;
    }
    Ok(changed)
}
