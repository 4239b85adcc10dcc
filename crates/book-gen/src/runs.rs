//! The commands the book and the README tell a reader to run, and what each printed.
//!
//! Every line of a ```` ```sh ```` block in `book/src/*.md` and `README.md` is a command. Each is
//! either **recorded** or **marked**:
//!
//! * A command is *marked* when its trailing comment starts with one of [`MARKERS`]:
//!   `# in a second terminal` (it waits for someone: the site, `nc`), `# runs until Ctrl-C` (a
//!   server, `mdbook serve`), or `# long:` (it builds, tests or measures for longer than a few
//!   seconds). A marked command is not run.
//! * Every other command is *recorded*: [`record`] runs it as a reader would, from the
//!   repository's root, with `bash -c` (so pipes and redirections work) and the fixture site
//!   listening where the command expects it, fails if it takes longer than [`LIMIT`], and writes
//!   what it printed (stdout and stderr together, [`filter`]ed and [`abbreviate`]d) to
//!   `book/src/data/runs/<id>.txt`, whose first line is `$ ` and the command as written.
//!
//! `cargo run [--release] -p PACKAGE [--example NAME] [-- ARGS]` is run as the release binary
//! (`target/release/PACKAGE ARGS`, built once by [`record`]), so that cargo's own lines and its
//! build time stay out of the recording; the command shown is the one written.
//!
//! [`check`] is what the book test runs, without running anything: every command is recorded or
//! marked, every recording exists and starts with its command as written, the page shows it (a
//! chapter includes it; the README links the folder), a crawl's flags parse with the stages'
//! own clap definition, no crate the commands run has changed since they were recorded, and no
//! recording has been changed since it was written (the digests in [`SOURCES`]). It does not run them again: together they take more than a minute,
//! and concurrent lines come in a different order from run to run.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use clap::Parser as _;
use regex::Regex;

/// Where the recordings are, relative to the repository's root.
pub const DIR: &str = "book/src/data/runs";

/// The command that rewrites the recordings.
pub const COMMAND: &str = "cargo run -p book-gen -- runs";

/// How long a recorded command may take: "finishes in a few seconds", with room for a loaded
/// machine. A command that needs longer is marked `# long:` instead.
pub const LIMIT: Duration = Duration::from_secs(10);

/// The starts of a trailing comment that mark a command as not recorded.
pub const MARKERS: [&str; 3] = ["in a second terminal", "runs until Ctrl-C", "long:"];

/// The address the book's commands crawl; [`record`] starts the fixture site and puts its real
/// address in its place, and puts this one back in the output.
pub const BOOK_SITE: &str = "127.0.0.1:8000";

/// The digests of the sources the recordings were made from, one line per crate: what tells the
/// book test that a crate changed after the commands were last run.
pub const SOURCES: &str = "book/runs-recorded-from.txt";

/// The crates whose code the recorded commands run (their `src/`, `examples/` and manifest).
pub const CRATES: [&str; 9] = [
    "crates/crawl",
    "crates/site",
    "crates/stage1-blocking",
    "crates/stage2-busy-poll",
    "crates/stage3-callbacks",
    "crates/stage4-generators",
    "crates/stage5-async-await",
    "crates/stage6-tokio",
    "crates/tour",
];

/// Pages whose commands are not checked here, and why.
pub const EXEMPT: [(&str, &str); 1] =
    [("book/src/scarce.md", "its commands need an open-file limit; the page shows their output itself")];

/// The most lines a recording shows whole; a longer output keeps its first [`HEAD`] and last
/// [`TAIL`] lines.
pub const MAX_LINES: usize = 44;
/// Lines kept from the start of a long output.
pub const HEAD: usize = 24;
/// Lines kept from the end of a long output.
pub const TAIL: usize = 10;

/// One command line of a `sh` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShCommand {
    /// The page, relative to the repository's root (`book/src/ch1-blocking.md`, `README.md`).
    pub page: String,
    /// Its line on the page, from 1.
    pub line: usize,
    /// The command as written, without its trailing comment.
    pub text: String,
    /// The trailing comment, without `#`, trimmed (empty if none).
    pub comment: String,
}

impl ShCommand {
    /// Whether the comment marks it as not recorded.
    pub fn marked(&self) -> bool {
        MARKERS.iter().any(|marker| self.comment.starts_with(marker))
    }

    /// Whether it needs the fixture site.
    pub fn needs_site(&self) -> bool {
        self.text.contains(BOOK_SITE)
    }
}

/// A recorded command with the name of its recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The command.
    pub command: ShCommand,
    /// The recording's id: `book/src/data/runs/<id>.txt`.
    pub id: String,
}

impl Recorded {
    /// The recording's path under `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(DIR).join(format!("{}.txt", self.id))
    }

    /// The include line a chapter shows it with.
    pub fn include(&self) -> String {
        format!("{{{{#include data/runs/{}.txt}}}}", self.id)
    }
}

/// The pages whose `sh` blocks are read: the README and every chapter, less [`EXEMPT`].
pub fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md")];
    pages.extend(crate::includes::markdown_files(&crate::book_src(root)));
    pages.retain(|page| !EXEMPT.iter().any(|(exempt, _)| crate::relative(root, page) == *exempt));
    pages
}

/// The command lines of the `sh` blocks of `markdown` (blank lines and whole-line comments left
/// out), for the page named `page`.
pub fn commands(page: &str, markdown: &str) -> Vec<ShCommand> {
    let mut found = Vec::new();
    let mut in_sh = false;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim();
        if !in_sh {
            in_sh = trimmed == "```sh";
            continue;
        }
        if trimmed.starts_with("```") {
            in_sh = false;
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (text, comment) = split_comment(trimmed);
        found.push(ShCommand { page: page.to_string(), line: index + 1, text, comment });
    }
    found
}

/// A command line split at its trailing comment: a `#` after a blank, outside quotes.
fn split_comment(line: &str) -> (String, String) {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => {
                return (line[..at].trim_end().to_string(), line[at + 1..].trim().to_string());
            }
            _ => {}
        }
        previous = c;
    }
    (line.trim_end().to_string(), String::new())
}

/// Every command of every page in [`pages`].
pub fn all_commands(root: &Path) -> Vec<ShCommand> {
    pages(root)
        .iter()
        .flat_map(|page| {
            let text = std::fs::read_to_string(page).unwrap_or_default();
            commands(&crate::relative(root, page), &text)
        })
        .collect()
}

/// The recorded commands (the unmarked ones), each with its id: the page's short name (`ch1`,
/// `readme`, `snapshots`) and a slug of the command's words, with `-2`, `-3` for repeats.
pub fn recorded(commands: &[ShCommand]) -> Vec<Recorded> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    commands
        .iter()
        .filter(|command| !command.marked())
        .map(|command| {
            let base = format!("{}-{}", page_name(&command.page), slug(&command.text));
            let count = seen.entry(base.clone()).or_default();
            *count += 1;
            let id = if *count == 1 { base } else { format!("{base}-{count}") };
            Recorded { command: command.clone(), id }
        })
        .collect()
}

/// `ch1` for `book/src/ch1-blocking.md`, `readme` for `README.md`, the stem otherwise.
fn page_name(page: &str) -> String {
    let stem = Path::new(page).file_stem().map(|s| s.to_string_lossy().to_lowercase()).unwrap_or_default();
    match stem.split_once('-') {
        Some((first, _)) if first.starts_with("ch") => first.to_string(),
        _ => stem,
    }
}

/// The words of a command that tell it apart, joined with `-`: cargo's own words, the site's URL,
/// redirections and the `crates/` and `src/` of paths left out.
fn slug(command: &str) -> String {
    const SKIP: [&str; 8] = ["cargo", "run", "-p", "--", "2>&1", ">", "/dev/null", "|"];
    let words: Vec<&str> =
        command.split_whitespace().filter(|word| !SKIP.contains(word) && !word.contains("://")).collect();
    let mut slug = String::new();
    // A path names a crate's file: `crates/stage1-blocking/src/fetch.rs` is `stage1-blocking-fetch-rs`.
    let words = words.join("-").replace("crates/", "").replace("/src/", "/");
    for c in words.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug = slug.trim_matches('-').to_string();
    if slug.len() > 60 {
        slug.truncate(60);
        slug = slug.trim_end_matches('-').to_string();
    }
    slug
}

/// `cargo run [--release] -p PACKAGE [--example NAME] [--]`, as [`run_form`] replaces it.
static CARGO_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"cargo run(?: --release)? -p ([\w-]+)(?: --example ([\w-]+))?(?: --(?:\s|$))?")
        .expect("a valid regex")
});

/// The command as [`record`] runs it: each `cargo run` replaced by the release binary it runs
/// (`target/release/stage1-blocking`, `target/release/examples/race`).
pub fn run_form(command: &str) -> String {
    CARGO_RUN
        .replace_all(command, |cap: &regex::Captures<'_>| match cap.get(2) {
            Some(example) => format!("target/release/examples/{} ", example.as_str()),
            None => format!("target/release/{} ", &cap[1]),
        })
        .trim_end()
        .to_string()
}

/// The packages whose release binaries and examples the commands run.
pub fn packages(recorded: &[Recorded]) -> Vec<String> {
    let mut packages: Vec<String> = recorded
        .iter()
        .flat_map(|run| {
            CARGO_RUN.captures_iter(&run.command.text).map(|cap| cap[1].to_string()).collect::<Vec<_>>()
        })
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

/// What differs from run to run, and what it becomes: one list for every recording.
pub const FILTERS: [(&str, &str); 7] = [
    // The report's summary line, as the snapshots mask it.
    (r"in \d+\.\d+ secs", "in [SECS] secs"),
    // bash's `time`.
    (r"(?m)^(real|user|sys)\t\d+m\d+\.\d+s$", "$1\t[TIME]"),
    // Durations in traces and in the examples' output, the unit kept: `20.113 ms`, `0.2 s`.
    (r"\b\d+(?:\.\d+)?(\s?)(ns|µs|us|ms|s)\b", "[N]$1$2"),
    // Times in units (the stage 5 examples: `took 4.0 units`).
    (r"\b\d+\.\d+ units\b", "[N] units"),
    // An HTTP response's date.
    (r"(?m)^Date: .*$", "Date: [DATE]"),
    // `diff`'s file headers carry each file's modification time.
    (r"(?m)^((?:---|\+\+\+) \S+)\t.*$", "$1"),
    // Log lines that start with a wall-clock time (mdBook's).
    (r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\s*", ""),
];

static COMPILED: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    FILTERS.iter().map(|(pattern, with)| (Regex::new(pattern).expect("a valid filter"), *with)).collect()
});

/// A run's output with [`FILTERS`] applied, the site's real address `site` (if any) put back
/// as [`BOOK_SITE`], and the text decoded lossily.
pub fn filter(output: &[u8], site: Option<&str>) -> String {
    let mut text = String::from_utf8_lossy(output).into_owned();
    if let Some(site) = site {
        text = text.replace(site, BOOK_SITE);
    }
    for (regex, with) in COMPILED.iter() {
        text = regex.replace_all(&text, *with).into_owned();
    }
    text
}

/// At most [`MAX_LINES`] lines: a longer text keeps its first [`HEAD`] and last [`TAIL`] lines,
/// with one line between them saying how many were left out.
pub fn abbreviate(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= MAX_LINES {
        return lines.iter().map(|line| format!("{line}\n")).collect();
    }
    let left_out = lines.len() - HEAD - TAIL;
    let mut out: String = lines[..HEAD].iter().map(|line| format!("{line}\n")).collect();
    out.push_str(&format!("[... {left_out} lines left out ...]\n"));
    out.extend(lines[lines.len() - TAIL..].iter().map(|line| format!("{line}\n")));
    out
}

/// A recording's text: `$ command`, then the output.
pub fn recording(command: &str, output: &str) -> String {
    format!("$ {command}\n{output}")
}

/// What [`record`] made: each recording's path and text, and a message for each command that
/// has none.
pub type Recordings = (Vec<(PathBuf, String)>, Vec<String>);

/// Runs every recorded command (building the release binaries first, and starting the fixture
/// site when a command needs it) and returns each recording's path and text, and one message for
/// each command that took longer than [`LIMIT`] or exited with a failure (`diff` may exit 1: the
/// files differ), which has no recording.
pub fn record(root: &Path) -> std::io::Result<Recordings> {
    record_only(root, None)
}

/// As [`record`], for the commands whose text contains `only` (every command when `None`).
pub fn record_only(root: &Path, only: Option<&str>) -> std::io::Result<Recordings> {
    let mut recorded = recorded(&all_commands(root));
    recorded.retain(|run| only.is_none_or(|only| run.command.text.contains(only)));
    let packages = packages(&recorded);
    if !packages.is_empty() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let mut build = Command::new(cargo);
        build.current_dir(root).args(["build", "--quiet", "--release", "--bins", "--examples"]);
        build.args(packages.iter().flat_map(|package| ["-p", package.as_str()]));
        let status = build.status()?;
        if !status.success() {
            return Err(std::io::Error::other(format!(
                "the release build of {packages:?} failed ({status})"
            )));
        }
    }
    let site = if recorded.iter().any(|run| run.command.needs_site()) {
        Some(site::spawn(site::SiteConfig::default())?)
    } else {
        None
    };
    let address = site.as_ref().map(|site| site.addr().to_string());
    let mut files = Vec::new();
    let mut failures = Vec::new();
    for run in &recorded {
        let mut shell = run_form(&run.command.text);
        if let Some(address) = &address {
            shell = shell.replace(BOOK_SITE, address);
        }
        let started = Instant::now();
        let (status, output) = run_shell(root, &shell)?;
        let took = started.elapsed();
        let what = format!("{}:{}: `{}`", run.command.page, run.command.line, run.command.text);
        let diff = run.command.text.starts_with("diff ");
        match status {
            None => failures.push(format!(
                "{what} took longer than {LIMIT:?} (killed): give it the flags that make it finish in seconds, or mark it `# long:`"
            )),
            Some(status) if !(status == 0 || diff && status == 1) => failures.push(format!(
                "{what} exited with status {status}:\n{}",
                String::from_utf8_lossy(&output)
            )),
            Some(_) => {
                println!("{:>5.1} s  {}", took.as_secs_f64(), run.id);
                // The repository's own path (mdBook names the folder it wrote) as a relative one.
                let output = String::from_utf8_lossy(&output).replace(&format!("{}/", root.display()), "");
                let text = abbreviate(&filter(output.as_bytes(), address.as_deref()));
                if text.contains("{{#") {
                    // mdBook would read it as a directive of the page that includes the recording
                    // (and it is mostly mdBook's own complaint about a missing include).
                    failures.push(format!("{what} printed an mdBook directive (`{{{{#`):\n{text}"));
                    continue;
                }
                files.push((run.path(root), recording(&run.command.text, &text)));
            }
        }
    }
    Ok((files, failures))
}

/// Runs `shell` with `bash -c` in `root`, stdout and stderr into one pipe as on a terminal, stdin
/// empty; returns its exit status and output, or no status if it ran past [`LIMIT`] (its whole
/// process group is then killed).
fn run_shell(root: &Path, shell: &str) -> std::io::Result<(Option<i32>, Vec<u8>)> {
    let (mut reader, writer) = std::io::pipe()?;
    let mut child = Command::new("bash")
        .args(["-c", shell])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .process_group(0)
        .spawn()?;
    let collector = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = reader.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status.code().unwrap_or(-1));
        }
        if Instant::now() >= deadline {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if status.is_none() {
        // The group is dead; what it wrote is still in the pipe.
        return Ok((None, collector.join().unwrap_or_default()));
    }
    // A child of the command that outlived it would hold the pipe open: wait for it, boundedly.
    let finished = Instant::now() + LIMIT;
    while !collector.is_finished() && Instant::now() < finished {
        std::thread::sleep(Duration::from_millis(20));
    }
    if !collector.is_finished() {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
        return Ok((None, collector.join().unwrap_or_default()));
    }
    Ok((status, collector.join().unwrap_or_default()))
}

/// The arguments a crawl command gives a stage (`ROOT... --flags`), if it runs one: the words
/// after `cargo run ... -p stageN-... --` up to the first pipe or redirection.
pub fn stage_args(command: &str) -> Option<(String, Vec<String>)> {
    let cap = CARGO_RUN.captures(command)?;
    let package = cap[1].to_string();
    if !package.starts_with("stage") || cap.get(2).is_some() {
        return None;
    }
    let rest = &command[cap.get(0)?.end()..];
    let args = rest
        .split_whitespace()
        .take_while(|word| !matches!(*word, "|" | ">" | "2>&1" | "&" | "&&" | ";") && !word.starts_with('>'))
        .map(|word| word.trim_matches('\'').to_string())
        .collect();
    Some((package, args))
}

/// Whether a stage's arguments parse and validate as the stage's `main` reads them: stage 1 with
/// its `--mode`, the others with the shared flags alone.
pub fn parse_stage_args(package: &str, args: &[String]) -> Result<(), String> {
    let argv = std::iter::once(package.to_string()).chain(args.iter().cloned());
    let crawl = if package == "stage1-blocking" {
        crawl::config::Cli::<stage1_blocking::StageArgs>::try_parse_from(argv).map(|cli| cli.crawl)
    } else {
        crawl::config::Cli::<crawl::config::NoStageArgs>::try_parse_from(argv).map(|cli| cli.crawl)
    };
    let crawl = crawl.map_err(|e| e.to_string().lines().next().unwrap_or_default().to_string())?;
    crawl::config::Config::from_args(&crawl).map(|_| ())
}

/// FNV-1a, 64 bits: a digest that stays the same across Rust releases (std's hasher may not).
fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The text of [`SOURCES`] for the code as it is now: `<digest> <crate>` per line of [`CRATES`],
/// each digest over the paths and contents of the crate's `Cargo.toml`, `src/` and `examples/`;
/// then `<digest> book/src/data/runs`, over the recordings themselves, so that a recording edited
/// by hand is found too.
pub fn sources(root: &Path) -> String {
    let mut out = String::new();
    for krate in CRATES {
        let dir = root.join(krate);
        let mut files = vec![dir.join("Cargo.toml")];
        files.extend(crate::reach::files_under(&dir.join("src")));
        files.extend(crate::reach::files_under(&dir.join("examples")));
        out.push_str(&format!("{:016x} {krate}\n", digest(root, files)));
    }
    out + &recordings_line(root)
}

/// The line of [`SOURCES`] for the recordings as they are now.
pub fn recordings_line(root: &Path) -> String {
    format!("{:016x} {DIR}\n", digest(root, crate::reach::files_under(&root.join(DIR))))
}

/// [`SOURCES`] as recorded, with its line for the recordings made anew (after `runs TEXT`,
/// which re-records some commands and leaves the crates' digests as they were).
pub fn with_recordings_line(root: &Path) -> String {
    let recorded = std::fs::read_to_string(root.join(SOURCES)).unwrap_or_default();
    let crates: String =
        recorded.lines().filter(|line| !line.ends_with(DIR)).map(|line| format!("{line}\n")).collect();
    crates + &recordings_line(root)
}

/// FNV-1a over the paths (relative to `root`) and contents of `files`.
fn digest(root: &Path, files: Vec<std::path::PathBuf>) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for file in files {
        hash = fnv1a(crate::relative(root, &file).as_bytes(), hash);
        hash = fnv1a(&std::fs::read(&file).unwrap_or_default(), hash);
    }
    hash
}

/// The crates whose sources differ from the ones the recordings were made from.
pub fn changed_since_recorded(root: &Path) -> Vec<String> {
    let recorded = std::fs::read_to_string(root.join(SOURCES)).unwrap_or_default();
    let now = sources(root);
    now.lines()
        .filter(|line| !recorded.lines().any(|r| r == *line))
        .filter_map(|line| line.split_once(' ').map(|(_, krate)| krate.to_string()))
        .collect()
}

/// What is wrong with the commands and their recordings, each with the fix; runs nothing.
pub fn check(root: &Path) -> Vec<String> {
    let commands = all_commands(root);
    let recorded = recorded(&commands);
    let mut problems = Vec::new();
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for run in &recorded {
        let command = &run.command;
        let at = format!("{}:{}", command.page, command.line);
        if let Some((package, args)) = stage_args(&command.text)
            && let Err(why) = parse_stage_args(&package, &args)
        {
            problems.push(format!("{at}: `{}` does not parse: {why}", command.text));
        }
        let path = run.path(root);
        match std::fs::read_to_string(&path) {
            Ok(text) if text.lines().next() == Some(&format!("$ {}", command.text)) => {}
            Ok(_) => problems.push(format!(
                "{}: recorded for another command than `{}` ({at}): run `{COMMAND}`",
                crate::relative(root, &path),
                command.text
            )),
            Err(_) => problems.push(format!(
                "{at}: `{}` is not recorded: run `{COMMAND}`, or mark it with a comment starting with one of {MARKERS:?}",
                command.text
            )),
        }
        let page = texts
            .entry(command.page.clone())
            .or_insert_with(|| std::fs::read_to_string(root.join(&command.page)).unwrap_or_default());
        if command.page == "README.md" {
            if !page.contains(DIR) {
                problems.push(format!("README.md does not link `{DIR}`, where its commands' output is"));
            }
        } else if !shown_after_block(page, command.line, &run.include()) {
            problems.push(format!(
                "{at}: `{}`: the text block after its sh block does not include `{}`",
                command.text,
                run.include()
            ));
        }
    }
    let wanted: Vec<PathBuf> = recorded.iter().map(|run| run.path(root)).collect();
    for file in crate::reach::files_under(&root.join(DIR)) {
        if !wanted.contains(&file) {
            problems.push(format!(
                "{} records no command of the book or the README: run `{COMMAND}`",
                crate::relative(root, &file)
            ));
        }
    }
    let mut changed = changed_since_recorded(root);
    if changed.iter().any(|krate| krate == DIR) {
        changed.retain(|krate| krate != DIR);
        problems
            .push(format!("a recording in {DIR} is not what `{COMMAND}` wrote (edited by hand?): run it"));
    }
    if !changed.is_empty() {
        problems.push(format!(
            "the recordings in {DIR} were made before the last change to {}: run `{COMMAND}`",
            changed.join(", ")
        ));
    }
    problems.dedup();
    problems
}

/// Whether `include` is in the first fenced block after the `sh` block that holds line
/// `line` (from 1), with only prose between them.
fn shown_after_block(page: &str, line: usize, include: &str) -> bool {
    let lines: Vec<&str> = page.lines().collect();
    let Some(close) = (line..lines.len()).find(|&i| lines[i].trim().starts_with("```")) else {
        return false;
    };
    let Some(open) = (close + 1..lines.len()).find(|&i| lines[i].trim().starts_with("```")) else {
        return false;
    };
    if lines[open].trim() != "```text" {
        return false;
    }
    lines[open + 1..].iter().take_while(|l| !l.trim().starts_with("```")).any(|l| l.trim() == include)
}

/// Whether `file` is a recording of a README command: the README cannot include it, so it links
/// the folder instead, and the book's check for files nothing uses leaves these out.
pub fn is_readme_recording(root: &Path, file: &Path) -> bool {
    file.parent() == Some(root.join(DIR).as_path())
        && file.file_name().is_some_and(|name| name.to_string_lossy().starts_with("readme-"))
}

/// Removes the recordings in [`DIR`] that no command records any more; returns their paths.
pub fn remove_orphans(root: &Path, keep: &[(PathBuf, String)]) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for file in crate::reach::files_under(&root.join(DIR)) {
        if !keep.iter().any(|(path, _)| *path == file) {
            std::fs::remove_file(&file)?;
            removed.push(file);
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sh_blocks_are_split_into_commands_and_comments() {
        let md = "x\n```sh\ncargo run -p a   # long: builds\n\n# whole line\necho '#x' | grep '#' # c\n```\n```text\nno\n```\n";
        let found = commands("p.md", md);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].text.as_str(), found[0].comment.as_str(), found[0].line),
            ("cargo run -p a", "long: builds", 3)
        );
        assert!(found[0].marked());
        assert_eq!((found[1].text.as_str(), found[1].comment.as_str()), ("echo '#x' | grep '#'", "c"));
        assert!(!found[1].marked());
    }

    #[test]
    fn cargo_run_becomes_the_release_binary() {
        assert_eq!(
            run_form("time cargo run -p stage1-blocking -- http://x/ -q > /dev/null"),
            "time target/release/stage1-blocking http://x/ -q > /dev/null"
        );
        assert_eq!(
            run_form("cargo run --release -p stage5-async-await --example workers -- --unit-ms 1000"),
            "target/release/examples/workers --unit-ms 1000"
        );
        assert_eq!(run_form("cargo run --release -p tour"), "target/release/tour");
    }

    #[test]
    fn ids_are_the_page_and_the_commands_words() {
        let commands = commands(
            "book/src/ch2-busy-poll.md",
            "```sh\ncargo run -p stage2-busy-poll -- http://127.0.0.1:8000/ --timeout 0.3 2>&1 | tail -3\ncargo run -p stage2-busy-poll -- http://127.0.0.1:8000/ --timeout 0.3 2>&1 | tail -3\n```\n",
        );
        let ids: Vec<String> = recorded(&commands).into_iter().map(|run| run.id).collect();
        assert_eq!(
            ids,
            ["ch2-stage2-busy-poll-timeout-0-3-tail-3", "ch2-stage2-busy-poll-timeout-0-3-tail-3-2"]
        );
    }

    #[test]
    fn a_stages_flags_are_read_up_to_the_first_pipe() {
        let (package, args) =
            stage_args("cargo run -p stage1-blocking -- http://h/ --mode pool --timeout 0.3 2>&1 | head")
                .unwrap();
        assert_eq!(package, "stage1-blocking");
        assert_eq!(args, ["http://h/", "--mode", "pool", "--timeout", "0.3"]);
        assert!(parse_stage_args(&package, &args).is_ok());
        assert!(parse_stage_args("stage2-busy-poll", &args).is_err(), "--mode is stage 1's");
        assert!(parse_stage_args(&package, &["http://h/".into(), "--timout".into(), "1".into()]).is_err());
        assert!(stage_args("cargo run -p stage5-async-await --example workers").is_none());
    }

    #[test]
    fn filters_mask_times_and_the_port() {
        let out = b"http://127.0.0.1:41234/ 200\nFinished 3 urls in 0.87 secs (max_tasks=10)\nreal\t0m1.234s\nread 20.113 ms\n";
        assert_eq!(
            filter(out, Some("127.0.0.1:41234")),
            "http://127.0.0.1:8000/ 200\nFinished 3 urls in [SECS] secs (max_tasks=10)\nreal\t[TIME]\nread [N] ms\n"
        );
    }

    #[test]
    fn long_output_keeps_its_head_and_tail() {
        let text: String = (1..=100).map(|n| format!("{n}\n")).collect();
        let short = abbreviate(&text);
        assert_eq!(short.lines().count(), HEAD + 1 + TAIL);
        assert!(short.contains("[... 66 lines left out ...]") && short.ends_with("100\n"));
        assert_eq!(abbreviate("a\nb"), "a\nb\n");
    }
}
