//! System calls per crawled page: what each stage and mode asks of the kernel for one URL.
//!
//! ```text
//! cargo run --release -p tour -- syscalls --crawl
//! ```
//!
//! Each run crawls the fixture site (no faults, no latency: the stage's own cost, not the
//! network's) as its own process (the tour run as that stage, `tour __stage CRATE ...`) under
//! `strace -f -c`, which counts every call of every thread, and of every child process in stage
//! 1's `processes` mode. As for the echo servers (`syscalls.rs`), a crawl makes many calls that
//! are not per page (loading, the loop's setup, exit), so each crawls two sites, one with twice
//! the pages of the other; the difference in calls, divided by the difference in URLs crawled,
//! is what one more URL costs.
//!
//! Stage 2's count depends on how long it spins between a request and its answer, so on the
//! machine and on strace itself (which slows every call): its row says that the busy loop asks in
//! vain, not how often.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::syscalls::{Call, parse_summary, per_unit};
use crate::stages::{self, RUN_STAGE, StageRun};

/// Pages of the smaller site; the larger has twice as many.
pub const PAGES: usize = 40;

/// One run's calls per crawled URL, as `tour syscalls --crawl --json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageRow {
    /// `stage 3 callbacks`: the stage and its mode, as the tour names them.
    pub run: String,
    /// URLs crawled on the smaller site, and on the larger.
    pub urls: [usize; 2],
    /// Every system call per crawled URL.
    pub per_url: f64,
    /// Each call by name, per crawled URL, most frequent first.
    pub calls: Vec<Call>,
}

/// Measures every run of [`stages::ALL`].
pub fn measure() -> Result<Vec<PageRow>, String> {
    let site = |pages| {
        site::spawn(site::SiteConfig { pages, latency: Duration::ZERO, faults: false, ..Default::default() })
            .map_err(|e| format!("cannot start the fixture site: {e}"))
    };
    let (small, large) = (site(PAGES)?, site(2 * PAGES)?);
    stages::ALL
        .iter()
        .map(|run| {
            let (urls_small, less) = traced_crawl(run, &small)?;
            let (urls_large, more) = traced_crawl(run, &large)?;
            if urls_large <= urls_small {
                return Err(format!("{run}: the larger site gave no more URLs ({urls_small}, {urls_large})"));
            }
            let (per_url, calls) = per_unit((urls_large - urls_small) as f64, &less, &more);
            Ok(PageRow { run: run.to_string(), urls: [urls_small, urls_large], per_url, calls })
        })
        .collect()
}

/// Crawls `site` as `run`, under `strace -f -c`: the URLs of its report, and strace's counts.
fn traced_crawl(run: &StageRun, site: &site::RunningSite) -> Result<(usize, Vec<(String, u64)>), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the tour's own binary: {e}"))?;
    let port = site.addr().port();
    let summary = std::env::temp_dir().join(format!(
        "tour-page-syscalls-{}-{}-{}-{port}.txt",
        std::process::id(),
        run.crate_name,
        run.mode
    ));
    let output = Command::new("strace")
        .args(["-f", "-c", "-o"])
        .arg(&summary)
        .arg("--")
        .arg(exe)
        .args([RUN_STAGE, run.crate_name, site.url().as_str(), "-q", "--max-tasks", "10"])
        .args(run.extra_flags)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start strace: {e}"))?;
    let text = std::fs::read_to_string(&summary);
    let _ = std::fs::remove_file(&summary);
    if !output.status.success() {
        return Err(format!("{run}: the crawl under strace exited with {}", output.status));
    }
    let report = String::from_utf8_lossy(&output.stdout);
    let (urls, _) = crawl::report::counts(&report).ok_or_else(|| format!("{run}: no report"))?;
    let counts = parse_summary(&text.map_err(|e| format!("{run}: no strace summary: {e}"))?)?;
    Ok((urls, counts))
}

/// The table: a line per run, its calls per URL by name (the five most frequent).
pub fn render(rows: &[PageRow]) -> String {
    let mut out = String::from("System calls per crawled URL (the difference of two crawls, strace -f -c)\n");
    let width = rows.iter().map(|row| row.run.len()).max().unwrap_or(0);
    for row in rows {
        let calls: Vec<String> =
            row.calls.iter().take(5).map(|c| format!("{} {:.1}", c.name, c.per_message)).collect();
        out += &format!("{:<width$} {:>9.1} per URL: {}\n", row.run, row.per_url, calls.join(", "));
    }
    out
}
