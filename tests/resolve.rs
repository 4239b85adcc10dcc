//! A slow name lookup is bounded by `--timeout`, and (off the loop's thread) stalls no one else.
//!
//! Tests cannot slow down the system's resolver, so the crawl's hidden `--resolver-delay` makes
//! every lookup of a name sleep [`LOOKUP`] first. Each stage crawls the fixture site by its IP
//! address (no lookup) and, beside it, the same site by the name `localhost` (a lookup). The
//! named URLs (the root, and the page the index links by that name) must be timeout rows after
//! their tries; every row of the IP address's crawl must be
//! there as without the slow name; and the whole run must take about its tries' timeouts, far
//! less than one lookup, let alone one per try.
mod common;

use std::time::{Duration, Instant};

use common::*;

/// How long each lookup of a name takes: far longer than the run should (the sleeps cost nothing).
const LOOKUP: Duration = Duration::from_secs(60);

/// The crawl's `--timeout`, and its tries of the named root.
const TIMEOUT: &str = "1";
const TRIES: &str = "2";

/// The run may take at most this: the two tries of each named URL take two timeouts (2 s; the
/// two URLs are tried at once, except in stage 1's sequential mode: 4 s), while a stage that
/// waited out even one lookup takes a whole [`LOOKUP`], and one that made the loop wait for each
/// lookup four of them. Half a lookup leaves a wide margin for a loaded machine.
const MAX_WALL: Duration = Duration::from_secs(LOOKUP.as_secs() / 2);

#[test]
fn a_slow_lookup_times_out_and_stalls_nothing_else_in_every_stage() {
    let site = small_site(false);
    let named_root = site.url().replace("127.0.0.1", "localhost");
    let delay = LOOKUP.as_secs().to_string();
    std::thread::scope(|scope| {
        let handles: Vec<_> = stages::ALL
            .iter()
            .map(|run| {
                let (site, named_root, delay) = (&site, named_root.as_str(), delay.as_str());
                scope.spawn(move || {
                    let mut flags: Vec<&str> = run.extra_flags.to_vec();
                    flags.extend(["--timeout", TIMEOUT, "--max-tries", TRIES]);
                    let reference = crawl_report(run.crate_name, site, &flags);
                    flags.extend([named_root, "--resolver-delay", delay]);
                    let started = Instant::now();
                    let report = crawl_report(run.crate_name, site, &flags);
                    (run, reference, report, started.elapsed())
                })
            })
            .collect();
        for handle in handles {
            let (run, reference, report, wall) = handle.join().expect("a run panicked");
            // The named root, and the page the index links by that name, both time out.
            let named_rows: Vec<&str> =
                report.lines().filter(|line| line.starts_with(named_root.as_str())).collect();
            assert_eq!(named_rows.len(), 2, "{run}: a row each for {named_root} and its page/0:\n{report}");
            for row in named_rows {
                assert!(
                    row.ends_with(&format!("error timeout ({TRIES} tries)")),
                    "{run}: a name that takes {LOOKUP:?} to look up should time out after {TRIES} tries: {row}"
                );
            }
            // Every other URL has its row, with the status it has without the slow name. (Only the
            // index's count of links differs: the link it has to `localhost` is now in bounds.)
            let rows = |report: &str| -> Vec<String> {
                normalized(report)
                    .lines()
                    .filter(|line| line.starts_with("http") && !line.starts_with(named_root.as_str()))
                    .map(|line| line.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
                    .collect()
            };
            assert_eq!(rows(&report), rows(&reference), "{run}: the slow name cost other URLs their rows");
            assert!(
                wall < MAX_WALL,
                "{run}: took {wall:?}: a {LOOKUP:?} lookup was waited for beyond the timeout of {TIMEOUT} s"
            );
        }
    });
}
