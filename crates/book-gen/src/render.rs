//! Everything the chapters show of the measurements, drawn from `book/src/data/tour.json` and
//! (through [`crate::lab_render`]) `book/src/data/lab.json`.
//!
//! Tables (Markdown), one sentence, the claims table and the charts (SVG). Each ends with where
//! its numbers come from: the command and the machine. `cargo run -p book-gen -- render` redraws
//! them from the JSON without measuring again; [`check`] fails when a drawn file no longer
//! matches the JSON (edited by hand, or the JSON replaced without redrawing).

use std::path::{Path, PathBuf};

use crate::chart::{self, BarChart, Series};
use crate::data::{self, Machine, Row, TourData};
use crate::lab::{self, LabData};
use crate::{claims, lab_render};

/// The command that redraws the files from `tour.json` and `lab.json`.
pub const COMMAND: &str = "cargo run -p book-gen -- render";

/// One column of a table: its header and how a row shows in it.
type Column = (&'static str, fn(&Row) -> String);

const LABEL: Column = ("stage / mode", |r| format!("{} {}", r.stage, r.mode));
const URLS: Column = ("URLs", |r| r.urls.to_string());
const ERRORS: Column = ("errors", |r| r.errors.to_string());
const WALL: Column = ("wall s", |r| format!("{:.3}", r.wall_secs));
const CPU: Column = ("CPU s", |r| format!("{:.3}", r.cpu_secs));
const SHARE: Column = ("CPU / wall", |r| percent(r.cpu_share()));
const THREADS: Column = ("peak threads", |r| r.peak_threads.to_string());
const CONNECTIONS: Column = ("peak connections", |r| r.peak_connections.to_string());
const SAME: Column = ("same report", |r| if r.same_report { "yes" } else { "NO" }.to_string());

/// `0.6 %`, `12 %`, `98 %`.
pub fn percent(share: f64) -> String {
    let pct = share * 100.0;
    if pct < 10.0 { format!("{pct:.1} %") } else { format!("{pct:.0} %") }
}

/// Where the numbers come from, as one italic paragraph.
pub fn caption(data: &TourData) -> String {
    caption_of(&data.generated_by, &[&data.command], &data.date, &data.commit, &data.machine)
}

/// The caption of any measurement: what wrote it, the commands it ran, when, at which commit,
/// on which machine.
pub fn caption_of(
    generated_by: &str,
    commands: &[&str],
    date: &str,
    commit: &str,
    machine: &Machine,
) -> String {
    let commands: Vec<String> = commands.iter().map(|c| format!("`{c}`")).collect();
    let ran = match commands.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => commands.concat(),
    };
    format!(
        "*Measured by `{generated_by}`, which ran {ran} on {date} at commit {commit}, on {}.*\n",
        machine_text(machine)
    )
}

/// The machine in one line.
pub fn machine_line(data: &TourData) -> String {
    machine_text(&data.machine)
}

/// A machine in one line.
pub fn machine_text(m: &Machine) -> String {
    format!(
        "{} ({} logical CPUs), {} MiB of memory, Linux {} ({}), {}",
        m.cpu, m.cores, m.memory_mib, m.kernel, m.os, m.rustc
    )
}

/// A Markdown table of `rows`, then the caption.
fn table(data: &TourData, rows: &[&Row], columns: &[Column]) -> String {
    let headers: Vec<&str> = columns.iter().map(|(header, _)| *header).collect();
    let cells: Vec<Vec<String>> =
        rows.iter().map(|row| columns.iter().map(|(_, cell)| cell(row)).collect()).collect();
    md_table(&headers, &cells) + "\n" + &caption(data)
}

/// A Markdown table: the first column left-aligned, the others right-aligned.
pub(crate) fn md_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let rule: Vec<String> =
        (0..headers.len()).map(|i| if i == 0 { "---" } else { "---:" }.to_string()).collect();
    let mut out = line(&headers) + &line(&rule);
    for row in rows {
        out += &line(row);
    }
    out
}

/// The rows of the given modes that were measured, in that order.
fn pick<'a>(data: &'a TourData, modes: &[&str]) -> Vec<&'a Row> {
    modes.iter().filter_map(|mode| data.row(mode)).collect()
}

/// The sentence of chapter 0: what the CPU did during the sequential crawl.
fn cpu_view(data: &TourData) -> String {
    let Some(row) = data.row("sequential") else {
        return "*The tour has no sequential row to quote.*\n".to_string();
    };
    format!(
        "The sequential crawl fetched {} URLs one at a time in {:.3} s of wall time, and its process \
         used {:.3} s of CPU time in all: the CPU had work for {} of the crawl, and spent the rest \
         waiting for the network.\n\n{}",
        row.urls,
        row.wall_secs,
        row.cpu_secs,
        percent(row.cpu_share()),
        caption(data)
    )
}

/// The notes under a chart: the command and the machine.
fn chart_notes(data: &TourData) -> Vec<String> {
    vec![
        data.command.clone(),
        format!("run on {} at commit {} by {}", data.date, data.commit, data.generated_by),
        machine_line(data),
        format!("drawn from book/src/data/tour.json by {COMMAND}"),
    ]
}

/// One kind of bar in a chart of the rows: its name, its colour, and its value for a row.
type RowSeries = (&'static str, &'static str, fn(&Row) -> f64);

/// A bar per row for each series.
fn row_chart(
    data: &TourData,
    title: &str,
    unit: &'static str,
    decimals: usize,
    series: &[RowSeries],
) -> String {
    chart::svg(&BarChart {
        title: title.to_string(),
        unit,
        decimals,
        labels: data.rows.iter().map(Row::label).collect(),
        series: series
            .iter()
            .map(|(name, color, value)| Series {
                name: name.to_string(),
                color,
                values: data.rows.iter().map(value).collect(),
            })
            .collect(),
        notes: chart_notes(data),
    })
}

fn time_chart(data: &TourData) -> String {
    row_chart(
        data,
        "Wall time and CPU time of one crawl, per stage (shorter is better)",
        " s",
        3,
        &[("wall time", "#4c78a8", |r| r.wall_secs), ("CPU time", "#f58518", |r| r.cpu_secs)],
    )
}

fn threads_chart(data: &TourData) -> String {
    row_chart(
        data,
        "Threads and open connections at the peak of one crawl, per stage",
        "",
        0,
        &[
            ("peak threads", "#54a24b", |r| r.peak_threads as f64),
            ("peak connections", "#b279a2", |r| r.peak_connections as f64),
        ],
    )
}

/// Every file drawn from the tour's `data` and the `lab`'s: (where it goes, its text).
pub fn generate(root: &Path, data: &TourData, lab: &LabData) -> Vec<(PathBuf, String)> {
    let all: Vec<&Row> = data.rows.iter().collect();
    let stage1: Vec<&Row> = data.rows.iter().filter(|row| row.stage == 1).collect();
    let dir = root.join(data::DIR);
    vec![
        (
            dir.join("tour.md"),
            table(data, &all, &[LABEL, URLS, ERRORS, WALL, CPU, SHARE, THREADS, CONNECTIONS, SAME]),
        ),
        (dir.join("tour-stage1.md"), table(data, &stage1, &[LABEL, WALL, CPU, SHARE, THREADS, CONNECTIONS])),
        (
            dir.join("tour-waiting.md"),
            table(
                data,
                &pick(data, &["sequential", "busy-poll", "callbacks"]),
                &[LABEL, WALL, CPU, SHARE, THREADS],
            ),
        ),
        (
            dir.join("tour-async.md"),
            table(
                data,
                &pick(data, &["threads", "pool", "async-await", "tokio"]),
                &[LABEL, WALL, CPU, THREADS, CONNECTIONS],
            ),
        ),
        (dir.join("cpu-view.md"), cpu_view(data)),
        (dir.join("claims.md"), claims::table(data, lab)),
        (dir.join("tour-time.svg"), time_chart(data)),
        (dir.join("tour-threads.svg"), threads_chart(data)),
    ]
    .into_iter()
    .chain(lab_render::generate(root, lab))
    .collect()
}

/// What is wrong with the drawn files: `tour.json` or `lab.json` missing or unreadable, the two
/// from different runs, or a file that does not match them.
pub fn check(root: &Path) -> Vec<String> {
    match (data::load(root), lab::load(root)) {
        (Ok(data), Ok(lab)) => {
            let mut problems = Vec::new();
            if !lab.same_run_as(&data) {
                problems.push(format!(
                    "{}/{} and {}/{} come from different runs: run `{}`",
                    data::DIR,
                    data::JSON,
                    data::DIR,
                    lab::JSON,
                    data::COMMAND
                ));
            }
            problems.extend(crate::compare(root, &generate(root, &data, &lab), COMMAND));
            problems
        }
        (data, lab) => [data.err(), lab.err()]
            .into_iter()
            .flatten()
            .map(|e| format!("{e}: run `{}`", data::COMMAND))
            .collect(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn row(stage: u8, mode: &str, wall_secs: f64, cpu_secs: f64, peak_threads: usize) -> Row {
        Row {
            stage,
            mode: mode.into(),
            urls: 10,
            errors: 1,
            wall_secs,
            cpu_secs,
            peak_threads,
            peak_connections: 10,
            same_report: true,
        }
    }

    pub(crate) fn sample() -> TourData {
        TourData {
            command: "cargo run --release -p tour -- --json".into(),
            generated_by: data::COMMAND.into(),
            date: "2026-01-01".into(),
            commit: "abc".into(),
            machine: Machine {
                cpu: "Test CPU".into(),
                cores: 2,
                memory_mib: 1024,
                kernel: "6.0".into(),
                os: "Test OS".into(),
                rustc: "rustc 1.95.0".into(),
            },
            site: None,
            rows: vec![
                row(1, "sequential", 8.0, 0.08, 1),
                row(1, "pool", 1.0, 0.07, 11),
                row(2, "busy-poll", 1.0, 0.99, 1),
                row(3, "callbacks", 1.0, 0.05, 1),
                row(5, "async-await", 1.0, 0.05, 1),
            ],
        }
    }

    #[test]
    fn every_table_says_where_its_numbers_come_from() {
        let data = sample();
        let lab = lab_render::tests::sample();
        let tour_files = generate(Path::new("/r"), &data, &lab).into_iter().filter(|(p, _)| {
            !p.file_name()
                .is_some_and(|n| ["lab-", "bench-"].iter().any(|s| n.to_string_lossy().starts_with(s)))
        });
        for (path, text) in tour_files {
            assert!(text.contains(&data.command), "{}", path.display());
            assert!(text.contains("Test CPU"), "{}", path.display());
        }
        assert!(cpu_view(&data).contains("8.000 s of wall time") && cpu_view(&data).contains("1.0 %"));
    }
}
