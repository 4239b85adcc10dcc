//! The tour's output: one row per stage and mode, as a table or as JSON.

use serde::Serialize;

use crate::measure::Measured;

/// One row; `tour --json` prints an array of these with exactly these keys.
#[derive(Debug, Serialize)]
pub struct Row {
    pub stage: u8,
    pub mode: &'static str,
    /// URLs in the report.
    pub urls: usize,
    /// URLs that ended in an error.
    pub errors: usize,
    pub wall_secs: f64,
    pub cpu_secs: f64,
    pub peak_threads: usize,
    pub peak_connections: u64,
    /// Whether the report, time aside, is byte-identical to the first row's.
    pub same_report: bool,
}

/// Turns measured runs into rows, comparing every report with the first.
pub fn rows(runs: &[Measured]) -> Vec<Row> {
    let first = runs.first().map(|run| crawl::report::without_time(&run.report));
    runs.iter()
        .map(|run| {
            let (urls, errors) = crawl::report::counts(&run.report).unwrap_or((0, 0));
            Row {
                stage: run.stage.stage,
                mode: run.stage.mode,
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

/// The rows as an aligned text table.
pub fn render(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<5} {:<11} {:>5} {:>6} {:>8} {:>8} {:>12} {:>16} {:>11}\n",
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
            "{:<5} {:<11} {:>5} {:>6} {:>8.3} {:>8.3} {:>12} {:>16} {:>11}\n",
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
