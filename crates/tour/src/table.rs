//! The tour's output: one row per stage and mode, as a table or as JSON.
//!
//! [`Row`] is the one definition of a row: the tour prints it, and `book-gen` reads it back from
//! `book/src/data/tour.json` as the same type, so the two cannot drift apart.

use serde::{Deserialize, Serialize};

use crate::measure::Measured;

/// One row; `tour --json` prints an array of these, with exactly the keys in [`Row::KEYS`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Stage number ([`StageRun::stage`](crate::stages::StageRun::stage)).
    pub stage: u8,
    /// The mode within the stage ([`StageRun::mode`](crate::stages::StageRun::mode)).
    pub mode: String,
    /// URLs in the report.
    pub urls: usize,
    /// URLs that ended in an error.
    pub errors: usize,
    /// From the stage's start to its exit, in seconds (rounded to milliseconds).
    pub wall_secs: f64,
    /// User plus system CPU time of the stage's process and its children, in seconds.
    pub cpu_secs: f64,
    /// Most threads taking part in the crawl at once.
    pub peak_threads: usize,
    /// Most connections open at the site at once.
    pub peak_connections: u64,
    /// Whether the report, time aside, is byte-identical to the first row's.
    pub same_report: bool,
}

impl Row {
    /// The JSON keys of a row, in the order they are printed (the unit test below checks them
    /// against serde's output), so that a test of `tour --json` needs no list of its own.
    pub const KEYS: &[&str] = &[
        "stage",
        "mode",
        "urls",
        "errors",
        "wall_secs",
        "cpu_secs",
        "peak_threads",
        "peak_connections",
        "same_report",
    ];

    /// CPU time as a share of wall time: 1.0 is one core busy for the whole run.
    pub fn cpu_share(&self) -> f64 {
        if self.wall_secs > 0.0 { self.cpu_secs / self.wall_secs } else { 0.0 }
    }

    /// `1 sequential`, `5 async-await`.
    pub fn label(&self) -> String {
        format!("{} {}", self.stage, self.mode)
    }
}

/// Turns measured runs into rows, comparing every report with the first.
pub fn rows(runs: &[Measured]) -> Vec<Row> {
    let first = runs.first().map(|run| crawl::report::without_time(&run.report));
    runs.iter()
        .map(|run| {
            let (urls, errors) = crawl::report::counts(&run.report).unwrap_or((0, 0));
            Row {
                stage: run.stage.stage,
                mode: run.stage.mode.to_string(),
                urls,
                errors,
                wall_secs: round3(run.wall.as_secs_f64()),
                cpu_secs: round3(run.cpu.as_secs_f64()),
                peak_threads: run.peak_threads,
                peak_connections: run.peak_connections,
                same_report: first.as_deref() == Some(crawl::report::without_time(&run.report).as_str()),
            }
        })
        .collect()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The rows as an aligned text table (the mode column as wide as its longest mode).
pub fn render(rows: &[Row]) -> String {
    let mode_width = rows.iter().map(|row| row.mode.len()).chain(["mode".len()]).max().unwrap_or_default();
    let mut out = format!(
        "{:<5} {:<mode_width$} {:>5} {:>6} {:>8} {:>8} {:>12} {:>16} {:>11}\n",
        "stage",
        "mode",
        "urls",
        "errors",
        "wall s",
        "cpu s",
        "peak threads",
        "peak connections",
        "same report"
    );
    for row in rows {
        out += &format!(
            "{:<5} {:<mode_width$} {:>5} {:>6} {:>8.3} {:>8.3} {:>12} {:>16} {:>11}\n",
            row.stage,
            row.mode,
            row.urls,
            row.errors,
            row.wall_secs,
            row.cpu_secs,
            row.peak_threads,
            row.peak_connections,
            if row.same_report { "yes" } else { "NO" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_table_lines_up_whatever_the_modes() {
        let row = |mode: &str| Row {
            stage: 6,
            mode: mode.to_string(),
            urls: 269,
            errors: 6,
            wall_secs: 0.9,
            cpu_secs: 0.05,
            peak_threads: 3,
            peak_connections: 10,
            same_report: true,
        };
        let table = render(&[row("tokio"), row("tokio-multi-thread")]);
        let widths: Vec<usize> = table.lines().map(str::len).collect();
        assert!(widths.iter().all(|&w| w == widths[0]), "{table}");
    }

    #[test]
    fn keys_are_the_serialised_fields_in_order() {
        let row = Row {
            stage: 1,
            mode: "sequential".to_string(),
            urls: 10,
            errors: 1,
            wall_secs: 2.0,
            cpu_secs: 0.5,
            peak_threads: 1,
            peak_connections: 1,
            same_report: true,
        };
        let json = serde_json::to_string(&row).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value.as_object().unwrap().len(), Row::KEYS.len(), "{json}");
        let positions: Vec<usize> = Row::KEYS
            .iter()
            .map(|key| json.find(&format!("\"{key}\":")).unwrap_or_else(|| panic!("no {key}: {json}")))
            .collect();
        assert!(positions.is_sorted(), "{json}");
    }
}
