//! The book's timelines: `tour timeline` run once, its traces kept, its pictures redrawn from them.
//!
//! [`collect`] runs `cargo run --release -p tour -- timeline --out book/src/data/timeline`
//! ([`TOUR_ARGS`]), which records every row of `tour::stages::ALL` as `<row>.json` (the trace
//! the stage's `--timeline` wrote) and draws `<row>.svg` and `all.svg`; it then records where
//! and when in [`JSON`]. [`generate`] redraws every picture from the stored traces, with
//! `tour::lab::timeline`'s renderer, and writes each one's caption (`<row>.md`, `all.md`), so
//! [`check`] can tell a picture that is missing, stale or edited by hand, and a row of the tour
//! that has no timeline.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tour::lab::timeline as pictures;
use tour::stages::{ALL, StageRun};

use crate::data::{self, Machine};

/// Where the traces, pictures and captions are, under the repository's root.
pub const DIR: &str = "book/src/data/timeline";

/// The record of the run, under [`DIR`].
pub const JSON: &str = "timeline.json";

/// The command that records the timelines again (`data` does too, with everything else).
pub const COMMAND: &str = "cargo run -p book-gen -- timeline";

/// The command that redraws the pictures from the stored traces.
pub const REDRAW: &str = "cargo run -p book-gen -- render";

/// The tour's arguments.
pub const TOUR_ARGS: &[&str] = &["timeline", "--out", DIR];

/// The stacked picture's name, without extension.
pub const ALL_STEM: &str = "all";

/// Chapter 5's examples whose tasks are recorded too (`--timeline FILE`, see `crawl::demo`), each
/// as `example-<name>`, each on its own axis.
pub const EXAMPLES: &[&str] = &["crawl_page", "workers"];

/// The command that records one of [`EXAMPLES`] into `path`.
pub fn example_command(name: &str, path: &str) -> String {
    format!("cargo run --release -p stage5-async-await --example {name} -- --timeline {path}")
}

/// An example's trace and picture, without extension.
fn example_stem(name: &str) -> String {
    format!("example-{name}")
}

/// One run of `tour timeline` and where it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineRun {
    /// What recorded the traces, as typed in the repository's root.
    pub command: String,
    /// What wrote this file.
    pub generated_by: String,
    /// The day of the run (UTC), `YYYY-MM-DD`.
    pub date: String,
    /// The commit recorded.
    pub commit: String,
    /// Where it ran.
    pub machine: Machine,
    /// The rows recorded, by file name (`stage3-callbacks`), in the tour's order.
    pub rows: Vec<String>,
}

/// Runs `tour timeline` in `root` (about ten seconds) and records the run; `generated_by` is
/// the book-gen command that asked for it.
pub fn collect(root: &Path, generated_by: &str) -> io::Result<TimelineRun> {
    // Before the run, whose traces would make the tree look changed.
    let (date, commit) = (data::today(), data::commit(root));
    eprintln!("book-gen: recording `tour {}`", TOUR_ARGS.join(" "));
    data::run_release_tour(root, TOUR_ARGS)?;
    for name in EXAMPLES {
        let path = format!("{DIR}/{}.json", example_stem(name));
        eprintln!("book-gen: recording `{}`", example_command(name, &path));
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = std::process::Command::new(cargo)
            .current_dir(root)
            .args(["run", "--quiet", "--release", "-p", "stage5-async-await", "--example", name, "--"])
            .args(["--timeline", &path])
            .stdout(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            return Err(io::Error::other(format!("the example {name} failed: {status}")));
        }
    }
    Ok(TimelineRun {
        command: data::release_tour_command(TOUR_ARGS),
        generated_by: generated_by.to_string(),
        date,
        commit,
        machine: data::machine(),
        rows: ALL.iter().map(pictures::file_stem).collect(),
    })
}

/// Reads [`JSON`].
pub fn load(root: &Path) -> io::Result<TimelineRun> {
    let name = format!("{DIR}/{JSON}");
    let text = std::fs::read_to_string(root.join(&name))
        .map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
    serde_json::from_str(&text).map_err(|e| io::Error::other(format!("{name}: {e}")))
}

/// [`JSON`]'s text.
pub fn to_json(run: &TimelineRun) -> String {
    serde_json::to_string_pretty(run).expect("the timeline record serialises") + "\n"
}

/// A row's stored trace.
fn trace_path(root: &Path, stem: &str) -> PathBuf {
    root.join(DIR).join(format!("{stem}.json"))
}

/// The stage rows of the tour and their stored traces' text.
fn traces(root: &Path) -> io::Result<Vec<(StageRun, String)>> {
    ALL.iter()
        .map(|run| {
            let path = trace_path(root, &pictures::file_stem(run));
            let text = std::fs::read_to_string(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", crate::relative(root, &path))))?;
            Ok((*run, text))
        })
        .collect()
}

/// The caption under a picture: what recorded it, when, where, and how the stage was run.
fn caption(record: &TimelineRun, run: Option<&StageRun>) -> String {
    let measured = crate::render::caption_of(
        &record.generated_by,
        &[&record.command],
        &record.date,
        &record.commit,
        &record.machine,
    );
    let recorded = measured.trim_end().trim_end_matches("*").replacen("*Measured by", "*Recorded by", 1);
    let how = match run {
        Some(run) => format!(
            " The stage ran as `{}` against the tour's own site ({} pages, {} ms latency).",
            pictures::stage_command(run, "http://127.0.0.1:PORT/"),
            pictures::PAGES,
            pictures::LATENCY_MS
        ),
        None => format!(
            " Every stage and mode ran with `--max-tasks {} --timeout {} --max-tries {}` against the tour's own site ({} pages, {} ms latency), only the faults {} left in.",
            pictures::MAX_TASKS,
            pictures::TIMEOUT,
            pictures::MAX_TRIES,
            pictures::PAGES,
            pictures::LATENCY_MS,
            pictures::KEPT_FAULTS.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(" and ")
        ),
    };
    format!("{recorded}{how}*\n")
}

/// The caption under an example's picture.
fn example_caption(record: &TimelineRun, name: &str) -> String {
    let measured = crate::render::caption_of(
        &record.generated_by,
        &[&example_command(name, &format!("{DIR}/{}.json", example_stem(name)))],
        &record.date,
        &record.commit,
        &record.machine,
    );
    measured.replacen("*Measured by", "*Recorded by", 1)
}

/// Every picture and caption, drawn from the stored traces and the record of their run.
pub fn generate(root: &Path, record: &TimelineRun) -> io::Result<Vec<(PathBuf, String)>> {
    let traces = traces(root)?;
    let labelled: Vec<(String, String)> =
        traces.iter().map(|(run, text)| (run.to_string(), text.clone())).collect();
    let axis = pictures::axis_ms(&labelled).map_err(io::Error::other)?;
    let dir = root.join(DIR);
    let mut files = Vec::new();
    for (run, text) in &traces {
        let stem = pictures::file_stem(run);
        let svg = pictures::render(text, axis, &run.to_string())
            .map_err(|e| io::Error::other(format!("{stem}.json: {e}")))?;
        files.push((dir.join(format!("{stem}.svg")), svg));
        files.push((dir.join(format!("{stem}.md")), caption(record, Some(run))));
    }
    files.push((
        dir.join(format!("{ALL_STEM}.svg")),
        pictures::render_all(&labelled, axis).map_err(io::Error::other)?,
    ));
    files.push((dir.join(format!("{ALL_STEM}.md")), caption(record, None)));
    let examples: Vec<(String, String)> = EXAMPLES
        .iter()
        .map(|name| {
            let path = trace_path(root, &example_stem(name));
            let text = std::fs::read_to_string(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", crate::relative(root, &path))))?;
            Ok((name.to_string(), text))
        })
        .collect::<io::Result<_>>()?;
    for (name, text) in &examples {
        let stem = example_stem(name);
        let title = format!("stage 5's example {name}: its three runs, one after another");
        // Each on its own axis: the orderings of one example are what is compared.
        let svg =
            pictures::render(text, 0.0, &title).map_err(|e| io::Error::other(format!("{stem}.json: {e}")))?;
        files.push((dir.join(format!("{stem}.svg")), svg));
        files.push((dir.join(format!("{stem}.md")), example_caption(record, name)));
    }
    Ok(files)
}

/// What is wrong with the timelines: the record missing, a row of the tour without its trace (or
/// a trace of a row the tour no longer runs), a picture or caption that is not what its trace and
/// the record make.
pub fn check(root: &Path) -> Vec<String> {
    let record = match load(root) {
        Ok(record) => record,
        Err(e) => return vec![format!("{e}: run `{COMMAND}`")],
    };
    let rows: Vec<String> = ALL.iter().map(pictures::file_stem).collect();
    let mut problems = Vec::new();
    if record.rows != rows {
        problems.push(format!(
            "{DIR}/{JSON} has timelines of {:?}, but the tour runs {rows:?}: run `{COMMAND}`",
            record.rows
        ));
    }
    for stem in rows.iter().cloned().chain(EXAMPLES.iter().map(|name| example_stem(name))) {
        let stem = &stem;
        if !trace_path(root, stem).is_file() {
            problems.push(format!("{DIR}/{stem}.json is missing: {stem} has no timeline: run `{COMMAND}`"));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    match generate(root, &record) {
        Ok(files) => crate::compare(root, &files, REDRAW),
        Err(e) => vec![format!("{e}: run `{COMMAND}`")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caption_says_what_recorded_it_and_how_the_stage_ran() {
        let record = TimelineRun {
            command: data::release_tour_command(TOUR_ARGS),
            generated_by: COMMAND.into(),
            date: "2026-01-01".into(),
            commit: "abc".into(),
            machine: crate::render::tests::sample().machine,
            rows: vec![],
        };
        let one = caption(&record, Some(&ALL[5]));
        assert!(one.starts_with("*Recorded by `cargo run -p book-gen -- timeline`, which ran `cargo run --release -p tour -- timeline --out book/src/data/timeline` on 2026-01-01 at commit abc, on Test CPU"), "{one}");
        assert!(
            one.contains("`cargo run --release -p stage3-callbacks -- http://127.0.0.1:PORT/ --max-tasks 5"),
            "{one}"
        );
        assert!(one.ends_with(".*\n") && one.matches('*').count() == 2, "{one}");
        assert!(
            caption(&record, None).contains("only the faults `/fault/flaky` and `/fault/silent` left in")
        );
    }
}
